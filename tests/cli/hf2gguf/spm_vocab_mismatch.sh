# tokenizer.model has more pieces than config.json vocab_size.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --vocab 400 small
"$BUILD/fixtures/make_hf" --vocab 512 m
cp m/tokenizer.model small/tokenizer.model
hf2gguf small -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
