# hf2gguf output equals convert_hf_to_gguf.py (c392e50) for every --outtype:
# every KV (key, type, value) and every tensor (name, type, shape, XXH64) of
# ../shared/golden/convert_hf_to_gguf, and the whole q8_0 file byte for byte.
. "$SRC/tests/cli/lib.sh"
need_shared
# The golden files were converted from a directory named tiny-llama-bf16
# (general.name "Tiny Llama Bf16" derives from it). A copy in the temp dir,
# not symlinks: weight files must resolve inside the checkpoint directory.
mkdir tiny-llama-bf16
cp "$SHARED"/fixtures/hf-tiny-llama-bf16/* tiny-llama-bf16/
g="$SHARED/golden/convert_hf_to_gguf"
for t in f32 f16 bf16 q8_0; do
    hf2gguf -q --outtype "$t" -o "$t.gguf" tiny-llama-bf16
    node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$t.gguf" "$t.meta.tsv" "$t.tensors.tsv"
    diff "$g/$t.meta.tsv" "$t.meta.tsv" || fail "$t: metadata differs from the golden"
    diff "$g/$t.tensors.tsv" "$t.tensors.tsv" || fail "$t: tensors differ from the golden"
done
cmp q8_0.gguf "$g/hf-tiny-llama-bf16.q8_0.gguf" || fail "q8_0 file differs from the golden file"
# output does not depend on the thread count
hf2gguf -q -j 1 --outtype q8_0 -o j1.gguf tiny-llama-bf16
hf2gguf -q -j 3 --outtype bf16 -o j3.gguf tiny-llama-bf16
cmp j1.gguf q8_0.gguf
cmp j3.gguf bf16.gguf
echo ok
