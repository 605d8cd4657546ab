# A PyTorch pytorch_model.bin checkpoint (restricted unpickler) converts to the
# same bytes as the safetensors checkpoint with the same weights.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --bin --dtype bf16 pt
"$BUILD/fixtures/make_hf" --dtype bf16 st
hf2gguf -q --model-name X --outtype q8_0 pt -o pt.gguf
hf2gguf -q --model-name X --outtype q8_0 st -o st.gguf
cmp pt.gguf st.gguf
echo ok
