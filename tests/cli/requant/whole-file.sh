# Whole output files are byte-identical to llama-quantize's (header included).
. "$SRC/tests/cli/requant/_common.inc"
for p in Q8_0 Q4_K_M; do
    requant -q "$REF" out.gguf "$p"
    cmp out.gguf "$GOLD/files/ref-llama-$p.gguf" || fail "$p differs"
    rm out.gguf
done
# --no-metrics changes nothing in the output
requant -q --no-metrics "$REF" out.gguf Q4_K_M
cmp out.gguf "$GOLD/files/ref-llama-Q4_K_M.gguf" || fail "--no-metrics differs"
