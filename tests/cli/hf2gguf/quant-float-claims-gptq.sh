# A float checkpoint whose config.json claims gptq (as upstream: nothing to
# dequantize): a warning on stderr, and the same bytes as without the claim.
. "$SRC/tests/cli/lib.sh"
mkdir a b
"$BUILD/fixtures/make_hf" a/m
cp -r a/m b/
sed -i '0,/{/s//{"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128},/' \
    b/m/config.json
grep -q '"quant_method": "gptq"' b/m/config.json || fail "fixture edit"
hf2gguf -q a/m -o a.gguf
hf2gguf b/m -o b.gguf
cmp a.gguf b.gguf || fail "the gptq claim changed the output"
