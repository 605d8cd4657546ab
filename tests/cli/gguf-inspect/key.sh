# --key prints one value raw, for scripts
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
[ "$(gguf-inspect --key general.architecture "$m")" = llama ] || fail "architecture"
n=$(gguf-inspect --key tokenizer.ggml.tokens "$m" | wc -l)
[ "$n" = 512 ] || fail "tokens: $n lines"
gguf-inspect --key no.such.key "$m" && fail "absent key must exit 1"
[ $? = 1 ] || fail "absent key exit status"
echo ok
