# --json pipes into jq: fields a script would ask for come out exactly
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
[ "$(gguf-inspect --json "$m" | jq -r '.summary.architecture')" = llama ] || fail "architecture"
[ "$(gguf-inspect --json "$m" | jq '.tensors | length')" = 75 ] || fail "tensor count"
[ "$(gguf-inspect --json "$m" | jq -r '.metadata[] | select(.key == "llama.attention.head_count_kv") | .value')" = 2 ] ||
    fail "kv heads"
v=$(gguf-inspect --json --full "$SHARED/fixtures/real/ggml-vocab-gpt-2.gguf" | jq -r '.metadata[] | select(.key == "tokenizer.ggml.tokens") | .value[1000]')
[ "$v" = "$(gguf-inspect --key tokenizer.ggml.tokens "$SHARED/fixtures/real/ggml-vocab-gpt-2.gguf" | sed -n 1001p)" ] ||
    fail "token 1000: $v"
