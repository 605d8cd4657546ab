# --weights int4/int8/f16 and --graph genai produce the forms they promise.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
for mode in int4 int8 f16; do
    gguf2onnx -q --json --weights $mode m.gguf o-$mode > $mode.json
done
gguf2onnx -q --json --graph genai --kv-dtype f16 m.gguf o-genai > genai.json
python3 - <<'PY'
import json
def forms(m): return {t["tensor"]: t["onnx"] for t in json.load(open(m + ".json"))["tensors"]}
i4, i8, f16 = forms("int4"), forms("int8"), forms("f16")
assert i4["blk.0.attn_q.weight"] == "MatMulNBits bits=4 block=32 (quantized as Q4_0)", i4
assert i8["blk.0.attn_q.weight"] == "MatMulNBits bits=8 block=32 (quantized as Q8_0)", i8
# ffn_down has K = 160 = 5 blocks: fine; a K that is no multiple of 32 would stay float
assert f16["blk.0.attn_q.weight"] == "MatMul f16 (dequantized)", f16
assert f16["token_embd.weight"] == "Gather f16 (dequantized)", f16
genai = {t["tensor"]: t["role"] for t in json.load(open("genai.json"))["tensors"]}
assert genai["blk.0.attn_k.weight"] == "model.layers.0.attn.qkv_proj", genai  # packed QKV
cfg = json.load(open("o-genai/genai_config.json"))
assert cfg["search"]["past_present_share_buffer"] is True
assert "position_ids" not in cfg["model"]["decoder"]["inputs"]
PY
