# Tensor data is untouched: every line of a manifest made before an edit
# (per tensor and the whole model, tensor data in file order as
# llama-gguf-hash) still checks after every kind of edit.
. "$SRC/tests/cli/gguf-edit/_common.inc"
gguf-verify hash "$REF" >old.manifest
gguf-edit -q "$REF" a.gguf --set 'general.name=str:x' --set-array t.a=i64:1,2
same_tensors old.manifest a.gguf
gguf-edit -q "$REF" b.gguf --remove 'tokenizer.ggml.*'
same_tensors old.manifest b.gguf
gguf-edit -q "$REF" c.gguf --chat-template big.jinja --chat-template-name tool=tool.jinja \
    --special-token eos=5 --add-bos
same_tensors old.manifest c.gguf
gguf-edit -q -f "$REF" d.gguf --set llama.block_count=u64:8
same_tensors old.manifest d.gguf
cp "$REF" e.gguf
gguf-edit -q -i e.gguf --set 'general.name=str:y'
same_tensors old.manifest e.gguf
gguf-edit -q -i e.gguf --chat-template big.jinja
same_tensors old.manifest e.gguf
mkdir s
gguf-edit -q "$REF" s/m --split-max-size 2M --set 'general.name=str:z'
gguf-edit -q s/m-00002-of-00006.gguf f.gguf
same_tensors old.manifest f.gguf
# and a manifest that does not match still fails (the check can fail)
gguf-verify hash "$SHARED/fixtures/real/llama-2-tiny-random.gguf" >other.manifest
if gguf-verify check --status other.manifest a.gguf; then fail "a wrong manifest passed"; fi
