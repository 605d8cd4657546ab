# Q1_0 of the golden reference model is byte-identical to llama-quantize
# ec562eb's output (xxh64 of the whole file, recorded from that build), with
# any thread count and from a pipe: 1-bit signs times the block's mean |x|
# for every matrix, output.weight Q6_K, norms F32.
. "$SRC/tests/cli/requant/_common.inc"
want=23ec6eadbdc3bbf2
for j in 1 2; do
    requant -q -j $j "$REF" q1-$j.gguf Q1_0
    [ "$(xxh64sum q1-$j.gguf | cut -d' ' -f1)" = $want ] || fail "-j $j: not llama-quantize's bytes"
done
cat "$REF" | requant -q - - Q1_0 > piped.gguf
[ "$(xxh64sum piped.gguf | cut -d' ' -f1)" = $want ] || fail "pipe: not llama-quantize's bytes"
"$HASHES" q1-1.gguf > q1.tsv
[ "$(awk '$2 == "Q1_0"' q1.tsv | wc -l)" = 57 ] || fail "Q1_0 tensors: $(cut -f2 q1.tsv | sort | uniq -c)"
grep -q '^output.weight	Q6_K	' q1.tsv || fail "output.weight is not Q6_K"
