# llama with a Llama-3 style BPE tokenizer.json and llama3 rope scaling:
# gpt2 vocab, llama-bpe pre-tokenizer, rope_freqs.weight generated first.
# make_hf's toy tokenizer has no known check hash: it is refused, as
# upstream refuses it, unless --pre names the pre-tokenizer.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe --rope-llama3 m
if hf2gguf -q m -o x.gguf 2>err; then fail "unknown pre-tokenizer accepted"; fi
grep -q 'BPE pre-tokenizer not recognised: chkhsh [0-9a-f]\{64\} is not in' err
assert_no_file x.gguf
hf2gguf -q --pre llama-bpe m -o l.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" l.gguf meta.tsv tensors.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"llama-bpe"' meta.tsv
grep -qxF 'tokenizer.ggml.bos_token_id	UINT32	261' meta.tsv
head -n1 tensors.tsv | grep -q '^rope_freqs.weight	F32	8	'
hf2gguf -q --pre smaug-bpe m -o x.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" x.gguf meta2.tsv tensors2.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"smaug-bpe"' meta2.tsv
echo ok
