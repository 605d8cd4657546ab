# A Q1_0 model (requant's 1-bit preset) converts with its weights
# dequantized exactly: the f32 initializers hold +d or -d per ggml's bits,
# decoded here independently of the kernels.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --embd 128 --ff 256 m.gguf
requant -q m.gguf q1.gguf Q1_0
gguf2onnx -q --json q1.gguf out > rep.json
for t in blk.0.attn_q.weight blk.1.ffn_down.weight token_embd.weight; do
    python3 "$SRC/tests/cli/requant/gguf_kv.py" q1.gguf $t > $t.off
done
python3 - <<'PY'
import json, struct
kinds = {t["tensor"]: t["onnx"] for t in json.load(open("rep.json"))["tensors"]}
assert kinds["blk.0.attn_q.weight"] == "MatMul f32 (dequantized)", kinds
assert kinds["token_embd.weight"] == "Gather f32 (dequantized)", kinds
g = open("q1.gguf", "rb").read()
data = open("out/model.onnx.data", "rb").read()
def q1_0(off, n):  # n values, blocks of 18 bytes: fp16 d, 16 bytes of sign bits
    out = []
    for b in range(n // 128):
        blk = g[off + 18 * b: off + 18 * (b + 1)]
        d = struct.unpack("<e", blk[:2])[0]
        out += [d if blk[2 + j // 8] >> (j % 8) & 1 else -d for j in range(128)]
    return struct.pack("<%df" % len(out), *out)
for name, n in (("blk.0.attn_q.weight", 128 * 128), ("blk.1.ffn_down.weight", 256 * 128),
                ("token_embd.weight", 128 * 512)):
    want = q1_0(int(open(name + ".off").read()), n)
    assert len(set(want)) > 2 and data.find(want) >= 0, name + ": not found exactly"
PY
