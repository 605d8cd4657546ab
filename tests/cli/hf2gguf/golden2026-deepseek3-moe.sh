# deepseek3-moe (DeepseekV3ForCausalLM) equals ec562eb's convert_hf_to_gguf.py
# output (f16, bf16, q8_0): arch deepseek2, MLA (q_a/q_b, kv_a_mqa, kv_b_proj
# cut into attn_k_b transposed {qk_nope, kv_lora, n_head} and attn_v_b
# {kv_lora, v_head, n_head}), head_count_kv 1, a leading dense block, the
# routed experts stacked, shared experts, exp_probs_b.bias F32, expert groups,
# sigmoid gating, yarn_log_multiplier 0.1 * mscale_all_dim.
#
# One line is environment-dependent (../shared README-moe.md): the golden's
# tokenizer.ggml.pre is "joyai-llm", the hash the reference got from its
# stand-in tokenizer; ours is "deepseek-v3". That line must be one of the
# two; every other key and every tensor hash is compared exactly.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 deepseek3-moe '^tokenizer\.ggml\.pre	STRING	"(joyai-llm|deepseek-v3)"$'
echo ok
