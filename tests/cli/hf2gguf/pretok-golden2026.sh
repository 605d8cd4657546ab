# tokenizer.ggml.pre from the check hash against ec562eb's converter: the
# BPE tokenizers of ../shared's 2026 checkpoints, each wrapped in a tiny
# llama checkpoint (the hash depends only on tokenizer.json and
# tokenizer_config.json), must get the pre name of the golden tables.
# deepseek3-moe's table says joyai-llm: its converter ran with @lenml as a
# stand-in for transformers (golden README-moe.md), which keeps
# tokenizer.json's post-processor, where transformers' LlamaTokenizerFast
# (this tokenizer_config's class) adds BOS; with BOS the hash is upstream's
# DeepSeek-V3 row, and the README allows either value. llama3-bos (the
# Llama 3 tokenizer with BOS, no golden table) hashes as llama-bpe, as the
# golden README says.
. "$SRC/tests/cli/lib.sh"
need_shared
G=$SHARED/golden/convert-2026 F=$SHARED/fixtures/hf-2026
# NAME TOKENIZER.JSON(.gz) TOKENIZER_CONFIG.JSON EXPECTED
check() {
    local vocab
    case $2 in
    *.gz) gunzip -c "$2" >"$1.tokenizer.json" ;;
    *) cp "$2" "$1.tokenizer.json" ;;
    esac
    vocab=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(1 + max([*j["model"]["vocab"].values(), *(t["id"] for t in j["added_tokens"])]))' "$1.tokenizer.json")
    "$BUILD/fixtures/make_hf" --arch llama --vocab "$vocab" --layers 1 --embd 16 --ff 16 \
        --heads 2 --kv-heads 1 --head-dim 8 --tokenizer-json "$1.tokenizer.json" \
        --tokenizer-config "$3" "$1"
    hf2gguf -q --vocab-only "$1" -o "$1.gguf"
    node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$1.gguf" meta.tsv tensors.tsv
    got=$(sed -n 's/^tokenizer.ggml.pre	STRING	//p' meta.tsv)
    [ "$got" = "$4" ] || fail "$1: pre $got, expected $4"
    echo "$1 $got"
    rm -rf "$1" "$1.gguf" "$1.tokenizer.json"
}
golden() { sed -n 's/^tokenizer.ggml.pre	STRING	//p' "$G/$1.f16.meta.tsv"; }
check glm4 "$F/glm4/tokenizer.json" "$F/glm4/tokenizer_config.json" "$(golden glm4)"
check qwen3-moe "$F/tokenizers-moe/qwen3.tokenizer.json.gz" "$F/qwen3-moe/tokenizer_config.json" \
    "$(golden qwen3-moe)"
check gptoss-moe "$F/tokenizers-moe/gptoss.tokenizer.json.gz" \
    "$F/gptoss-moe/tokenizer_config.json" "$(golden gptoss-moe)"
[ "$(golden deepseek3-moe)" = '"joyai-llm"' ] || fail "deepseek3-moe golden changed"
check deepseek3-moe "$F/tokenizers-moe/deepseek_v3.tokenizer.json.gz" \
    "$F/deepseek3-moe/tokenizer_config.json" '"deepseek-v3"'
check llama3-bos "$F/tokenizers-2026/llama3-bos.tokenizer.json.gz" \
    "$F/tokenizers-2026/llama3-bos.tokenizer_config.json" '"llama-bpe"'
