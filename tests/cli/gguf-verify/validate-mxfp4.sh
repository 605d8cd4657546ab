# validate on MXFP4 experts (requant MXFP4_MOE of a generated MoE model):
# the file passes; an E8M0 scale byte of 0xFF (NaN in the OCP MX spec,
# refused by llama.cpp ec562eb's ggml_validate_row_data) fails with exit 1,
# naming the tensor, row and block, on a file and on a pipe. The corrupted
# block's codes are all 0, so its values decode finite: only the scale
# check can catch it.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 256 --ff 256 --heads 4 --kv-heads 2 \
    --experts 4 --experts-used 2 --vocab 512 moe.gguf
requant -q moe.gguf mx.gguf MXFP4_MOE
gguf-inspect --json mx.gguf > mx.json
type=$(node -e 'const j = JSON.parse(require("fs").readFileSync("mx.json"));
console.log(j.tensors.find((t) => t.name === "blk.1.ffn_up_exps.weight").type)')
[ "$type" = MXFP4 ] || fail "expert type $type"
gguf-verify validate mx.gguf > out.txt || fail "good MXFP4 file failed"
[ "$(cat out.txt)" = "mx.gguf: OK" ] || fail "OK line: $(cat out.txt)"
# the largest finite scales (0xFE = 2^127, 0 = 2^-127) are valid scales:
# the first block of blk.0.ffn_gate_exps gets 0xFE with zero codes, the
# second 0x00
off() { # tensor row block
    node -e 'const j = JSON.parse(require("fs").readFileSync("mx.json"));
const t = j.tensors.find((x) => x.name === process.argv[1]);
const rowBytes = t.bytes / (t.parameters / t.shape[0]);
console.log(j.files[0].data_offset + t.offset + rowBytes * Number(process.argv[2]) + 17 * Number(process.argv[3]));
' "$1" "$2" "$3"
}
block() { # file offset e: an MXFP4 block with scale byte e and 16 zero bytes of codes
    { printf "\\$(printf %03o "$3")"; head -c 16 /dev/zero; } |
        dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
cp mx.gguf edge.gguf
block edge.gguf "$(off blk.0.ffn_gate_exps.weight 0 0)" 254
block edge.gguf "$(off blk.0.ffn_gate_exps.weight 0 1)" 0
cmp -s mx.gguf edge.gguf && fail "edge blocks not written"
gguf-verify validate edge.gguf > /dev/null || fail "0xFE and 0x00 scales refused"
# 0xFF in block 3 of row 300 (expert 1) of blk.1.ffn_up_exps
cp mx.gguf bad.gguf
block bad.gguf "$(off blk.1.ffn_up_exps.weight 300 3)" 255
gguf-verify validate -j 2 mx.gguf bad.gguf > out.txt 2> err.txt && fail "0xFF scale passed"
[ $? = 1 ] || fail "exit status"
printf 'mx.gguf: OK\nbad.gguf: FAILED\n' | cmp -s - out.txt || fail "lines: $(cat out.txt)"
want="gguf-verify: bad.gguf: tensor 'blk.1.ffn_up_exps.weight' row 300 block 3: scale e is not finite (Inf or NaN)"
[ "$(cat err.txt)" = "$want" ] || fail "message: $(cat err.txt)"
cat bad.gguf | gguf-verify validate - > /dev/null 2> err.txt && fail "0xFF scale passed on a pipe"
[ $? = 1 ] || fail "pipe exit status"
grep -qF "tensor 'blk.1.ffn_up_exps.weight' row 300 block 3: scale e is not finite (Inf or NaN)" err.txt ||
    fail "pipe message: $(cat err.txt)"
gguf-verify validate --json bad.gguf > out.json && fail "0xFF scale passed with --json"
node -e 'const f = JSON.parse(require("fs").readFileSync("out.json")).files[0];
if (f.status !== "failed" || !/row 300 block 3: scale e/.test(f.error)) throw new Error(JSON.stringify(f));'
