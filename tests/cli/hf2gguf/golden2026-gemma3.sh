# gemma3 output equals convert_hf_to_gguf.py (ec562eb) for f16, bf16 and
# q8_0: every KV and every tensor of ../shared/golden/convert-2026/gemma3.*
# (shared block with values replaced in place, freq_base_swa, q/k norms +1,
# list-valued eos_token_id giving no eos key, add_space_prefix last).
. "$SRC/tests/cli/lib.sh"
need_shared
# general.name derives from the folder name: a copy named gemma3
mkdir gemma3
cp "$SHARED"/fixtures/hf-2026/gemma3/* gemma3/
g="$SHARED/golden/convert-2026"
for t in f16 bf16 q8_0; do
    hf2gguf -q --outtype "$t" -o "$t.gguf" gemma3
    node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$t.gguf" "$t.meta.tsv" "$t.tensors.tsv"
    diff "$g/gemma3.$t.meta.tsv" "$t.meta.tsv" || fail "$t: metadata differs from the golden"
    diff "$g/gemma3.$t.tensors.tsv" "$t.tensors.tsv" || fail "$t: tensors differ from the golden"
done
echo ok
