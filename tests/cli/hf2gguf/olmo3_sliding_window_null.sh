# An OLMo 3 config whose sliding_window is null: upstream writes the key as
# a u32 and fails; exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch olmo2 m
sed -i 's/"model_type": "olmo2",/&\n  "sliding_window": null,/' m/config.json
grep -q '"sliding_window": null' m/config.json || fail "fixture edit"
hf2gguf --pre qwen2 m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
