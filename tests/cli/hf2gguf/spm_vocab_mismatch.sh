# tokenizer.model has more pieces than config.json vocab_size: ec562eb keeps
# the first vocab_size pieces with a warning (c392e50 raised IndexError, and
# this case expected an error until the move to ec562eb).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --vocab 400 small
"$BUILD/fixtures/make_hf" --vocab 512 m
cp m/tokenizer.model small/tokenizer.model
hf2gguf small -o out.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" out.gguf meta.tsv tensors.tsv
grep -q '^tokenizer.ggml.tokens	\[400 x STRING\]' meta.tsv
echo ok
