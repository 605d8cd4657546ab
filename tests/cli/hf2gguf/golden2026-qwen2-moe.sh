# qwen2-moe equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# qwen2moe: QKV biases, mlp.experts.N.down/gate/up_proj stacked, the shared
# expert ffn_*_shexp and its gate ffn_gate_inp_shexp {n_embd, 1} F32.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 qwen2-moe
echo ok
