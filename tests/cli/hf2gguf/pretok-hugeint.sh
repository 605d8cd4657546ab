# Real Llama-3 tokenizer_config.json files say "model_max_length":
# 1000000000000000019884624838656, an integer past int64 that Python's json
# reads and jansson refuses by default: hf2gguf must accept the file.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe m
cat >m/tokenizer_config.json <<'JSON'
{
  "bos_token": "<|begin_of_text|>",
  "eos_token": "<|end_of_text|>",
  "model_max_length": 1000000000000000019884624838656,
  "tokenizer_class": "PreTrainedTokenizerFast"
}
JSON
hf2gguf -q --pre llama-bpe m -o l.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" l.gguf meta.tsv tensors.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"llama-bpe"' meta.tsv
grep -qxF 'tokenizer.ggml.bos_token_id	UINT32	261' meta.tsv
echo ok
