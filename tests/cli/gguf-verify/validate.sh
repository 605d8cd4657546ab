# validate: good files pass; a NaN value, an Inf block scale and missing data
# fail with exit 1, naming the first bad tensor and row, on files and pipes
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" m.gguf
requant -q m.gguf q8.gguf Q8_0
gguf-verify validate m.gguf q8.gguf > out.txt || fail "good files failed"
printf 'm.gguf: OK\nq8.gguf: OK\n' | cmp - out.txt || fail "OK lines"
# where = absolute offset of (tensor, row, byte in row)
where() { # file tensor row byte_in_row
    gguf-inspect --json "$1" | node -e '
const j = JSON.parse(require("fs").readFileSync(0));
const t = j.tensors.find((x) => x.name === process.argv[1]);
const rowBytes = t.bytes / (t.parameters / t.shape[0]);
console.log(j.files[0].data_offset + t.offset + rowBytes * Number(process.argv[2]) + Number(process.argv[3]));
' "$2" "$3" "$4"
}
poke() { printf "$2" | dd of="$1" bs=1 seek="$3" conv=notrunc 2>/dev/null; }
# fp16 NaN at row 5, column 7 of an F16 tensor, and a later one in blk.6
poke m.gguf '\000\176' "$(where m.gguf blk.3.attn_q.weight 5 14)"
poke m.gguf '\000\176' "$(where m.gguf blk.6.attn_q.weight 0 0)"
gguf-verify validate -j 2 m.gguf > out.txt 2> err.txt && fail "NaN passed"
[ $? = 1 ] || fail "exit status"
grep -qx 'm.gguf: FAILED' out.txt || fail "FAILED line"
grep -qx "gguf-verify: m.gguf: tensor 'blk.3.attn_q.weight' row 5 column 7: value is NaN" err.txt ||
    fail "message: $(cat err.txt)"
cat m.gguf | gguf-verify validate - 2> err.txt >/dev/null && fail "NaN passed on a pipe"
grep -q "tensor 'blk.3.attn_q.weight' row 5 column 7: value is NaN" err.txt || fail "pipe message"
# +Inf fp16 scale d in block 2 of row 3 of a Q8_0 tensor (34-byte blocks)
poke q8.gguf '\000\174' "$(where q8.gguf blk.2.ffn_down.weight 3 68)"
gguf-verify validate q8.gguf 2> err.txt >/dev/null && fail "Inf scale passed"
grep -qx "gguf-verify: q8.gguf: tensor 'blk.2.ffn_down.weight' row 3 block 2: scale d is not finite (Inf or NaN)" err.txt ||
    fail "scale message: $(cat err.txt)"
# truncated: the header promises data past the end of the file
requant -q "$SHARED/fixtures/ref-llama-f16.gguf" good.gguf Q8_0
head -c $(( $(stat -c %s good.gguf) - 1000 )) good.gguf > cut.gguf
gguf-verify validate cut.gguf 2> err.txt >/dev/null && fail "truncated file passed"
[ $? = 1 ] || fail "truncated exit status"
grep -q "past the end of the file" err.txt || fail "truncated message: $(cat err.txt)"
cat cut.gguf | gguf-verify validate - 2> err.txt >/dev/null && fail "truncated pipe passed"
grep -q "unexpected end of file" err.txt || fail "truncated pipe message: $(cat err.txt)"
