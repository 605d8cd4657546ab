# gpt-oss converts in both graphs (that the numbers agree with llama.cpp is
# tests/interop/onnx-families.test.mjs): the experts as one com.microsoft
# MoE node per block with their biases and the clamped SwiGLU
# (swiglu_limit), QMoE over Q8_0 experts; the sinks as GroupQueryAttention's
# head_sink (genai) or the Attention op's zero key slot and float mask
# (standard); YaRN caches; the rebuilt tokenizer.json with o200k's regex.
. "$SRC/tests/cli/lib.sh"
has() { grep -q -a -F "$2" "$1/model.onnx" || fail "$1: no '$2' in model.onnx"; }
"$BUILD/fixtures/make_hf" --arch gptoss --layers 2 --embd 64 --ff 64 --heads 4 --kv-heads 2 \
    --head-dim 16 --experts 4 --topk 2 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --pre gpt-4o --outtype f16 hf -o m.gguf 2> /dev/null
"$BUILD/bin/requant" -q m.gguf q.gguf Q8_0
gguf2onnx -q m.gguf std
gguf2onnx -q --graph genai q.gguf genai
for g in std genai; do
    has $g swiglu_limit
    has $g model.layers.1.moe.experts.fc1_bias
    has $g model.layers.1.moe.experts.fc2_bias
    has $g model.layers.0.attn.sinks
    has $g cos_cache
done
has genai QMoE
has genai GroupQueryAttention
has std /model/attn_mask_sink/Where_1/output_0
grep -q '"Regex": "\[^\\\\r\\\\n\\\\p{L}\\\\p{N}\]?\[\\\\p{Lu}' std/tokenizer.json || fail "tokenizer.json: not o200k's regex"
grep -q '"type": "gpt-oss"' std/genai_config.json || fail "genai_config.json type"
