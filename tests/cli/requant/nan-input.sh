# A NaN in a tensor to convert is bad input: exit 2, named tensor and row,
# no output left behind.
. "$SRC/tests/cli/requant/_common.inc"
cp "$REF" in.gguf
off=$(python3 "$HERE/gguf_kv.py" in.gguf blk.1.ffn_up.weight)
# row 3 (rows of 256 F16 values = 512 bytes), element 5: F16 NaN 0x7e00
printf '\000\176' | dd of=in.gguf bs=1 seek=$((off + 3 * 512 + 10)) conv=notrunc 2>/dev/null
rc=0
requant in.gguf out.gguf Q4_K_M 2>err.txt || rc=$?
grep -q "tensor 'blk.1.ffn_up.weight': row 3 holds NaN or infinity" err.txt || fail "message: $(cat err.txt)"
assert_no_file out.gguf out.gguf.tmp.*
exit $rc
