# phi3 (Phi3ForCausalLM, LongRoPE) equals convert_hf_to_gguf.py ec562eb for
# f16, bf16 and q8_0: every KV and every tensor of
# ../shared/golden/convert-2026/phi3.*. general.name derives from the
# directory name, so the copy keeps it.
. "$SRC/tests/cli/lib.sh"
need_shared
mkdir phi3
cp "$SHARED"/fixtures/hf-2026/phi3/* phi3/
g="$SHARED/golden/convert-2026"
for t in f16 bf16 q8_0; do
    hf2gguf -q --outtype "$t" -o "$t.gguf" phi3
    node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$t.gguf" "$t.meta.tsv" "$t.tensors.tsv"
    diff "$g/phi3.$t.meta.tsv" "$t.meta.tsv" || fail "$t: metadata differs from the golden"
    diff "$g/phi3.$t.tensors.tsv" "$t.tensors.tsv" || fail "$t: tensors differ from the golden"
done
echo ok
