# A small llama GGUF becomes model.onnx + external data, genai_config.json
# and the tokenizer files; --json reports what every weight became.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
gguf2onnx -q --json m.gguf out > rep.json
for f in model.onnx model.onnx.data genai_config.json tokenizer.json tokenizer_config.json; do
    [ -s "out/$f" ] || fail "missing out/$f"
done
assert_no_file out.tmp.*
python3 - <<'PY'
import json
rep = json.load(open("rep.json"))
assert rep["architecture"] == "llama" and rep["layers"] == 2 and rep["graph"] == "standard", rep
kinds = {t["tensor"]: t["onnx"] for t in rep["tensors"]}
assert kinds["token_embd.weight"] == "Gather f32 (dequantized)", kinds
assert kinds["blk.0.attn_q.weight"] == "MatMul f32 (dequantized)", kinds
cfg = json.load(open("out/genai_config.json"))
d = cfg["model"]["decoder"]
assert (d["head_size"], d["num_attention_heads"], d["num_key_value_heads"], d["num_hidden_layers"]) == (16, 4, 2, 2), d
assert d["inputs"]["past_key_names"] == "past_key_values.%d.key" and "position_ids" in d["inputs"]
assert cfg["search"]["past_present_share_buffer"] is False
tok = json.load(open("out/tokenizer.json"))
assert tok["model"]["type"] == "BPE" and tok["model"]["byte_fallback"] is True
assert len(tok["model"]["vocab"]) == cfg["model"]["vocab_size"] == 512
PY
# data file: every initializer starts on a 64-byte boundary at least
[ $(( $(stat -c %s out/model.onnx.data) % 64 )) -eq 0 ] || fail "data file size not aligned"
