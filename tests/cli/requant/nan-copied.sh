# llama-quantize validates every tensor it loads: an infinity in a tensor
# copied unchanged (a norm stays F32) is bad input too; named tensor and
# row, no output. The COPY preset validates all tensors.
. "$SRC/tests/cli/requant/_common.inc"
cp "$REF" in.gguf
off=$(python3 "$HERE/gguf_kv.py" in.gguf blk.2.ffn_norm.weight)
# element 7 of the 1-D F32 norm: +infinity 0x7f800000
printf '\000\000\200\177' | dd of=in.gguf bs=1 seek=$((off + 28)) conv=notrunc 2>/dev/null
for t in Q4_K_M COPY; do
    rc=0
    requant in.gguf "out-$t.gguf" "$t" 2>err.txt || rc=$?
    [ "$rc" = 2 ] || fail "$t: exit $rc"
    grep -q "tensor 'blk.2.ffn_norm.weight': row 0 holds NaN or infinity" err.txt ||
        fail "$t message: $(cat err.txt)"
    assert_no_file "out-$t.gguf" "out-$t.gguf".tmp.*
done
echo ok
