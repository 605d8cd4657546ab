# A gemma2 config without query_pre_attn_scalar is refused (exit 2) naming
# the key (every Gemma 2 release carries it; the converter never reads it).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma2 m
sed -i '/"query_pre_attn_scalar"/d' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
