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
name=deepseek3-moe
g="$SHARED/golden/convert-2026"
mkdir "$name"
for f in "$SHARED/fixtures/hf-2026/$name"/*; do
    ln "$f" "$name/" 2>/dev/null || cp "$f" "$name/"
done
gunzip -c "$(golden2026_tokenizer_gz $name)" > "$name/tokenizer.json"
pre='^tokenizer\.ggml\.pre	STRING	"(joyai-llm|deepseek-v3)"$'
for t in f16 bf16 q8_0; do
    hf2gguf -q --config-as-written --outtype "$t" -o "$name.$t.gguf" "$name"
    python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" "$name.$t.gguf" meta.tsv tensors.tsv
    grep -Eq "$pre" meta.tsv || fail "$t: tokenizer.ggml.pre is neither joyai-llm nor deepseek-v3"
    grep -Eq "$pre" "$g/$name.$t.meta.tsv" || fail "$t: the golden's pre line moved"
    diff <(sed -E "s/$pre/PRE/" "$g/$name.$t.meta.tsv") <(sed -E "s/$pre/PRE/" meta.tsv) >&2 ||
        fail "$name $t: metadata differs from the golden"
    diff "$g/$name.$t.tensors.tsv" tensors.tsv >&2 || fail "$name $t: tensors differ from the golden"
done
echo ok
