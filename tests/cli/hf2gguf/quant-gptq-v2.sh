# checkpoint_format gptq_v2 stores the zero itself, v1 ("gptq") the zero
# minus 1: symmetric checkpoints written both ways dequantize to the same bytes.
. "$SRC/tests/cli/lib.sh"
mkdir a b
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 a/m
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-v2 b/m
cmp -s a/m/model.safetensors b/m/model.safetensors && fail "fixture: the zeros should differ"
hf2gguf -q --outtype f32 a/m -o a.gguf
hf2gguf -q --outtype f32 b/m -o b.gguf
cmp a.gguf b.gguf || fail "gptq_v2 differs from gptq"
