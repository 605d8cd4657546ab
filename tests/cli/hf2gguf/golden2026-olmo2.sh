# olmo2 equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# no input norm, q/k norms over all heads, post-attention and post-MLP
# norms, the tokenizer.json BPE vocabulary (Qwen3's, pre qwen2).
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 olmo2
echo ok
