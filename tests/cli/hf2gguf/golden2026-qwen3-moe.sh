# qwen3-moe equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# qwen3moe: q/k norms, mlp.experts.N.down/gate/up_proj stacked,
# expert_feed_forward_length, the tokenizer.json BPE vocabulary (pre qwen2).
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 qwen3-moe
echo ok
