# Gemma 3n is not Gemma 3: exit 2, one line naming gemma3 as the closest
# supported family before the supported classes.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma3 m
sed -i -e 's/"Gemma3ForCausalLM"/"Gemma3nForCausalLM"/' -e 's/"model_type": "gemma3"/"model_type": "gemma3n"/' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
