# GGUF headers that lie: counts and lengths of 2^60, nesting bombs,
# impossible shapes and types, tensor data past the end or overlapping,
# duplicates. Each is refused with exit 2 and a message naming the problem,
# within 2 GB of memory, leaving no output.
. "$SRC/tests/cli/hostile/_hostile.inc"
while IFS='|' read -r kind pat; do
    $MK "$kind" "$kind.gguf"
    gguf_refused "$pat" "$kind.gguf"
done <<'LIST'
gguf-many-tensors|tensor count 1152921504606846976 cannot fit
gguf-many-kv|KV count 1152921504606846976 cannot fit
gguf-huge-key|key length 1152921504606846976 runs past the end
gguf-huge-string|string length 1152921504606846976 runs past the end
gguf-huge-array|array of 1152921504606846976 f32 elements runs past the end
gguf-huge-string-array|array of 1152921504606846976 str elements runs past the end
gguf-nested-arrays|arrays nested more than 8 deep
gguf-huge-elements|element count overflows
gguf-bad-dims|n_dims 5 outside 1..4
gguf-bad-type|unknown tensor type 9999
gguf-past-end|data ends 4064 bytes past the end of the file
gguf-far-offset|data offset 1099511627776 is out of order
gguf-overlap|overlaps tensor 'a'
gguf-dup-tensor|duplicate tensor name 'a'
gguf-dup-key|duplicate key 'general.alignment'
gguf-bad-alignment|general.alignment 3 is not a non-zero power of two
gguf-bad-version|GGUF version 99 is not supported
gguf-bad-kv-type|unknown value type 77
LIST
