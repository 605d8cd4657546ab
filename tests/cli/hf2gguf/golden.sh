# Legacy check against convert_hf_to_gguf.py c392e50 (February 2025), the
# tables in ../shared/golden/convert_hf_to_gguf, for every --outtype. The
# reference is now ec562eb (golden2026-*.sh); its output differs from the
# c392e50 tables in exactly two known ways, normalised here:
# - general.quantization_version follows the hyper-parameters, before the
#   tokenizer.* keys (TextModel.prepare_metadata): the golden's last line is
#   moved before tokenizer.ggml.model;
# - tensors come in sorted HF-name order (SafetensorsLocal), not header
#   order: both tensor tables are compared sorted.
# Everything else (every key, type and value; every tensor's type, shape
# and XXH64) must still equal the c392e50 tables. Those were made without
# transformers (config.json as written: no head_dim, so no key_length):
# --config-as-written.
. "$SRC/tests/cli/lib.sh"
need_shared
# The golden files were converted from a directory named tiny-llama-bf16
# (general.name "Tiny Llama Bf16" derives from it). A copy in the temp dir,
# not symlinks: weight files must resolve inside the checkpoint directory.
mkdir tiny-llama-bf16
cp "$SHARED"/fixtures/hf-tiny-llama-bf16/* tiny-llama-bf16/
g="$SHARED/golden/convert_hf_to_gguf"
qv='general.quantization_version	UINT32	2'
for t in f32 f16 bf16 q8_0; do
    hf2gguf -q --config-as-written --outtype "$t" -o "$t.gguf" tiny-llama-bf16
    python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" "$t.gguf" "$t.meta.tsv" "$t.tensors.tsv"
    [ "$(tail -n1 "$g/$t.meta.tsv")" = "$qv" ] || fail "$t: golden no longer ends with $qv"
    grep -vxF "$qv" "$g/$t.meta.tsv" | sed "/^tokenizer.ggml.model	/i $qv" > "$t.want.meta.tsv"
    diff "$t.want.meta.tsv" "$t.meta.tsv" || fail "$t: metadata differs from the golden"
    diff <(sort "$g/$t.tensors.tsv") <(sort "$t.tensors.tsv") ||
        fail "$t: tensors differ from the golden"
done
# output does not depend on the thread count
hf2gguf -q --config-as-written -j 1 --outtype q8_0 -o j1.gguf tiny-llama-bf16
hf2gguf -q --config-as-written -j 3 --outtype bf16 -o j3.gguf tiny-llama-bf16
cmp j1.gguf q8_0.gguf
cmp j3.gguf bf16.gguf
echo ok
