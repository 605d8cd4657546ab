# --mem on a Hugging Face directory hf2gguf refuses: hf2gguf's own message,
# naming the file at fault, exit 2 and nothing on stdout; and when no
# hf2gguf can be found (neither beside gguf-inspect nor on PATH), a line
# saying so.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --layers 2 --embd 128 --ff 256 --heads 2 --kv-heads 1 \
    --vocab 512 hf >/dev/null
refused() { # expected-message dir
    gguf-inspect --mem -c 512 --as Q4_K_M "$2" >out 2>err && fail "accepted: $2"
    [ $? = 2 ] || fail "exit for $2: $(cat err)"
    [ ! -s out ] || fail "output for $2: $(head -3 out)"
    grep -q "^gguf-inspect: $1" err || fail "$2: $(cat err)"
    [ "$(wc -l <err)" = 1 ] || fail "$2: more than one line: $(cat err)"
}
# an architecture hf2gguf does not convert
cp -r hf arch
sed -i 's/"LlamaForCausalLM"/"FooBarForCausalLM"/' arch/config.json
refused "arch/config.json: .*FooBarForCausalLM" arch
# a fractional layer count
cp -r hf frac
sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 2.5/' frac/config.json
refused "frac/config.json: .*num_hidden_layers' = 2.5 is not a whole number" frac
# a weight missing from the checkpoint
"$BUILD/fixtures/make_hf" --arch llama --layers 2 --embd 128 --ff 256 --heads 2 --kv-heads 1 \
    --vocab 512 --omit model.layers.1.mlp.up_proj.weight miss >/dev/null
refused "miss.*model.layers.1.mlp.up_proj.weight" miss
# no config.json at all
mkdir empty
refused "empty" empty
# gguf-inspect alone, with no hf2gguf beside it or on PATH
mkdir solo
cp "$(command -v gguf-inspect)" solo/
if PATH=/usr/bin:/bin command -v hf2gguf >/dev/null; then
    echo "an hf2gguf in /usr/bin or /bin: not-found case skipped" >&2
else
    PATH=/usr/bin:/bin solo/gguf-inspect --mem hf >out 2>err && fail "ran without hf2gguf"
    [ $? = 2 ] && [ ! -s out ] && grep -q "^gguf-inspect: hf: --mem on a Hugging Face directory needs hf2gguf, which is neither beside gguf-inspect nor on PATH" err ||
        fail "no hf2gguf: $(cat err)"
fi
