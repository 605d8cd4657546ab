# gemma3 cuts token_embd to the vocabulary (config vocab_size with a
# tokenizer.model): 512 embedding rows, vocab_size 500, 400 SentencePiece
# pieces padded to 500 tokens.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma3 --tied m
"$BUILD/fixtures/make_hf" --arch gemma3 --vocab 400 small
cp small/tokenizer.model m/
sed -i 's/"vocab_size": 512/"vocab_size": 500/' m/config.json
hf2gguf -q --outtype f16 m -o out.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" out.gguf meta.tsv tensors.tsv
grep -q '^token_embd.weight	F16	64x500	' tensors.tsv || fail "token_embd not cut to 500 rows"
grep -q '^tokenizer.ggml.tokens	\[500 x STRING\]' meta.tsv
echo ok
