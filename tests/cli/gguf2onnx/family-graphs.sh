# olmo2, granite and smollm3 convert in both graphs with their family's
# pieces: olmo2 without input norms, with q/k norms over the whole
# projection and post-attention/post-MLP norms; granite's embedding,
# residual and logit scales; smollm3's NoPE block 3 (no rotary in the
# standard graph, do_rotary 0 in GroupQueryAttention: checked through the
# node count). (That the numbers agree with llama.cpp is
# tests/interop/onnx-families.test.mjs.)
. "$SRC/tests/cli/lib.sh"
has() { grep -q -a -F "$2" "$1/model.onnx" || fail "$1: no '$2' in model.onnx"; }
hasnt() { ! grep -q -a -F "$2" "$1/model.onnx" || fail "$1: unexpected '$2' in model.onnx"; }
for a in olmo2 granite smollm3; do
    pre=
    [ $a = olmo2 ] && pre="--pre qwen2"
    "$BUILD/fixtures/make_hf" --arch $a --layers 4 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 300 hf-$a
    "$BUILD/bin/hf2gguf" -q $pre --outtype f16 hf-$a -o $a.gguf
    gguf2onnx -q $a.gguf $a-std
    gguf2onnx -q --graph genai $a.gguf $a-genai
    for g in std genai; do
        grep -q "\"type\": \"$a\"" $a-$g/genai_config.json || fail "$a-$g: genai_config type"
    done
done
for g in std genai; do
    has olmo2-$g post_feedforward_layernorm
    has olmo2-$g post_attention_layernorm
    has olmo2-$g layers.3.attn.q_norm.weight
    hasnt olmo2-$g input_layernorm
    hasnt olmo2-$g q_norm/Reshape
    has granite-$g embd_scale
    has granite-$g layers.1/attn/residual_scale
    has granite-$g layers.1/mlp/residual_scale
    has granite-$g 1_over_logit_scale
done
has smollm3-std layers.2.attn/q_rotary
hasnt smollm3-std layers.3.attn/q_rotary
has granite-std layers.3.attn/q_rotary
# the GGUF's chat template reaches tokenizer_config.json (set here with
# requant --override-kv: make_hf writes none)
for a in olmo2 granite smollm3; do
    "$BUILD/bin/requant" -q --pure --allow-requantize \
        --override-kv "tokenizer.chat_template=str:{{ '<|$a|>' + messages[0]['content'] }}" \
        $a.gguf $a-t.gguf F16
    gguf2onnx -q $a-t.gguf $a-t
    grep -q "<|$a|>' + messages" $a-t/tokenizer_config.json || fail "$a: chat template not in tokenizer_config.json"
done
# granite with rope.scaling.finetuned false (llama.cpp's switch): no block
# rotates
"$BUILD/bin/requant" -q --pure --allow-requantize \
    --override-kv granite.rope.scaling.finetuned=bool:false granite.gguf granite-nope.gguf F16
gguf2onnx -q granite-nope.gguf granite-nope
hasnt granite-nope q_rotary
has granite-nope 1_over_logit_scale
