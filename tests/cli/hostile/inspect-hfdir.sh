# gguf-inspect DIR reads a Hugging Face directory as hf2gguf does: a
# directory hf2gguf refuses for its config.json or tokenizer files is
# refused by gguf-inspect too (exit 2, same message), and a FIFO in place
# of config.json is refused, not waited on.
. "$SRC/tests/cli/hostile/_hostile.inc"
mkhf() {
    rm -rf c
    "$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
        --kv-heads 1 --vocab 300 --ctx 64 c >/dev/null
}
both_refuse() {
    refused "$1" out.gguf timeout 20 hf2gguf c -o out.gguf
    refused "$1" out.txt timeout 20 gguf-inspect c
}
mkhf
gguf-inspect c > good.txt || fail "a good directory is refused"
rm c/tokenizer.model
both_refuse "c: no tokenizer.model or tokenizer.json"
mkhf
echo '{"model": ' > c/tokenizer.json
both_refuse "c/tokenizer.json: "
mkhf
echo '[1, 2]' > c/tokenizer_config.json
both_refuse "c/tokenizer_config.json: not a JSON object"
mkhf
head -c 100 c/tokenizer.model > cut && mv cut c/tokenizer.model
both_refuse "tokenizer.model"
mkhf
rm c/config.json
mkfifo c/config.json
both_refuse "c/config.json: not a regular file"
