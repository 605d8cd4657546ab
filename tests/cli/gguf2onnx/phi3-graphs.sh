# phi3 converts in both graphs: the fused q|k|v and gate|up weights split
# after one linear (the genai graph feeds q|k|v to GroupQueryAttention as
# it is), and LongRoPE's short/long caches selected by the total length.
# Without factor tensors (rope_dim/2 = 16 values are cut to 0 by
# --override-kv... no: a Phi-3-4k-like model) the plain caches are used.
# (That the numbers agree with llama.cpp is tests/interop/onnx-families.test.mjs.)
. "$SRC/tests/cli/lib.sh"
has() { grep -q -a -F "$2" "$1/model.onnx" || fail "$1: no '$2' in model.onnx"; }
hasnt() { ! grep -q -a -F "$2" "$1/model.onnx" || fail "$1: unexpected '$2' in model.onnx"; }
"$BUILD/fixtures/make_hf" --arch phi3 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 2 --vocab 300 --ctx 16 hf
"$BUILD/bin/hf2gguf" -q --outtype f16 hf -o m.gguf
gguf2onnx -q m.gguf std
gguf2onnx -q --graph genai m.gguf genai
for g in std genai; do
    has $g gate_up_split
    has $g /model/rope/cos_cache/Slice
    grep -q '"type": "phi3"' $g/genai_config.json || fail "$g: genai_config type"
done
has std qkv_split
hasnt genai qkv_split
