# The Llama 3 tokenizer.json (Sequence[ByteLevel, TemplateProcessing
# <|begin_of_text|>]) with its tokenizer_config: ec562eb writes
# add_bos_token True and add_sep_token False after the ids (c392e50 wrote
# neither).
. "$SRC/tests/cli/lib.sh"
need_shared
t="$SHARED/fixtures/hf-2026/tokenizers-2026"
gunzip -c "$t/llama3-bos.tokenizer.json.gz" > tok.json
"$BUILD/fixtures/make_hf" --arch llama --vocab 128256 --embd 16 --ff 32 --heads 2 --kv-heads 1 \
    --layers 1 --tied --tokenizer-json tok.json --tokenizer-config "$t/llama3-bos.tokenizer_config.json" m
hf2gguf -q m -o out.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" out.gguf meta.tsv tensors.tsv
sed -n '/^tokenizer.ggml.merges/,$p' meta.tsv | tail -n +2 | cut -f1-3 | cut -c1-60
