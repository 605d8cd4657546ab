# A GPTQ checkpoint without g_idx (which convert_hf_to_gguf.py would need):
# input i is in group i / group_size, the same bytes as with that g_idx.
. "$SRC/tests/cli/lib.sh"
mkdir a b
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-asym a/m
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-asym \
    --omit model.layers.1.mlp.down_proj.g_idx b/m
hf2gguf -q a/m -o a.gguf
hf2gguf -q b/m -o b.gguf
cmp a.gguf b.gguf || fail "a missing g_idx is not i / group_size"
