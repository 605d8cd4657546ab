# A phi3 tokenizer_config.json without tokenizer_class (upstream reads it to
# choose the BPE or SentencePiece path): exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
echo '{"add_bos_token": true}' > m/tokenizer_config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
