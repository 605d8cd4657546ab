# mixtral-moe equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# arch llama with experts: block_sparse_moe.experts.N.w1/w2/w3 stacked into
# ffn_gate/down/up_exps {n_embd, n_ff, n_expert}, the router ffn_gate_inp F32.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 mixtral-moe
echo ok
