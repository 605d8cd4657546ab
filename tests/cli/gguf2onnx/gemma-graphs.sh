# gemma2 and gemma3 convert in both graphs with their family's pieces: the
# embedding scale, GELU, soft-capping (gemma2), the sliding-window mask or
# GQA window, gemma3's own local rope caches and q/k norms. (That the
# numbers agree with llama.cpp is tests/interop/onnx-families.test.mjs.)
. "$SRC/tests/cli/lib.sh"
has() { grep -q -a -F "$2" "$1/model.onnx" || fail "$1: no '$2' in model.onnx"; }
hasnt() { ! grep -q -a -F "$2" "$1/model.onnx" || fail "$1: unexpected '$2' in model.onnx"; }
for a in gemma2 gemma3; do
    "$BUILD/fixtures/make_hf" --arch $a --layers 6 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 300 hf-$a
    "$BUILD/bin/hf2gguf" -q --outtype f16 hf-$a -o $a.gguf
    gguf2onnx -q $a.gguf $a-std
    gguf2onnx -q --graph genai $a.gguf $a-genai
    for g in std genai; do
        has $a-$g embd_scale
        has $a-$g Gelu
        has $a-$g post_feedforward_layernorm
        grep -q "\"type\": \"$a\"" $a-$g/genai_config.json || fail "$a-$g: genai_config type"
    done
    has $a-std attn_mask_swa
    has $a-genai local_window_size
done
has gemma2-std softcap
has gemma2-std final_softcap
hasnt gemma2-std cos_cache_swa
has gemma3-std cos_cache_swa
has gemma3-std q_norm
hasnt gemma3-std final_softcap
