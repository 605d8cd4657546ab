# --zstd compresses the output; compressed input is read transparently.
. "$SRC/tests/cli/requant/_common.inc"
requant -q --zstd=5 "$REF" out.gguf.zst Q8_0
zstd -q -d -c out.gguf.zst | cmp - "$GOLD/files/ref-llama-Q8_0.gguf" || fail "zstd output"
zstd -q -c "$REF" > ref.gguf.zst
requant -q ref.gguf.zst out.gguf Q4_K_M
cmp out.gguf "$GOLD/files/ref-llama-Q4_K_M.gguf" || fail "zstd input"
