# phi3 (Phi3ForCausalLM, LongRoPE) equals ec562eb's convert_hf_to_gguf.py
# output (f16, bf16, q8_0): attn_factor after general.architecture, the
# rope factor tensors first, qkv and gate_up kept fused.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 phi3
echo ok
