# A PyTorch pytorch_model.bin checkpoint (restricted unpickler) converts to the
# same keys and tensors as the safetensors checkpoint with the same weights.
# Only the tensor order differs: a .bin part keeps its state-dict order
# (torch.load), a safetensors part is sorted by name (ec562eb
# ModelBase.index_tensors / SafetensorsLocal).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --bin --dtype bf16 pt
"$BUILD/fixtures/make_hf" --dtype bf16 st
hf2gguf -q --model-name X --outtype q8_0 pt -o pt.gguf
hf2gguf -q --model-name X --outtype q8_0 st -o st.gguf
tables() { python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" "$1.gguf" "$1.meta" "$1.tensors"; }
tables pt
tables st
cmp pt.meta st.meta
cmp <(sort pt.tensors) <(sort st.tensors)
head -n1 pt.tensors | grep -q '^token_embd.weight	' || fail "bin: state-dict order expected"
head -n1 st.tensors | grep -q '^output.weight	' || fail "safetensors: sorted order expected"
echo ok
