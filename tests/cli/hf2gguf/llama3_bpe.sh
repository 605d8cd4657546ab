# llama with a Llama-3 style BPE tokenizer.json and llama3 rope scaling:
# gpt2 vocab, llama-bpe pre-tokenizer, rope_freqs.weight generated first.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe --rope-llama3 m
hf2gguf -q m -o l.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" l.gguf meta.tsv tensors.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"llama-bpe"' meta.tsv
grep -qxF 'tokenizer.ggml.bos_token_id	UINT32	261' meta.tsv
head -n1 tensors.tsv | grep -q '^rope_freqs.weight	F32	8	'
# an unknown pre-tokenizer is an error unless --pre forces one
sed -i 's/p{N}{1,3}/p{N}{1,2}/' m/tokenizer.json
if hf2gguf -q m -o x.gguf 2>err; then fail "unknown pre-tokenizer accepted"; fi
grep -q 'unknown BPE pre-tokenizer' err
assert_no_file x.gguf
hf2gguf -q --pre smaug-bpe m -o x.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" x.gguf meta2.tsv tensors2.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"smaug-bpe"' meta2.tsv
echo ok
