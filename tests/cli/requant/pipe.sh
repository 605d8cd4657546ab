# Streaming: stdin to file, file to stdout, stdin to stdout.
. "$SRC/tests/cli/requant/_common.inc"
cat "$REF" | requant -q - out.gguf Q8_0
cmp out.gguf "$GOLD/files/ref-llama-Q8_0.gguf" || fail "stdin -> file differs"
requant -q "$REF" - Q4_K_M > out2.gguf
cmp out2.gguf "$GOLD/files/ref-llama-Q4_K_M.gguf" || fail "file -> stdout differs"
cat "$REF" | requant -q -t Q4_K_M - - | cmp - "$GOLD/files/ref-llama-Q4_K_M.gguf" || fail "pipe -> pipe differs"
