# hf2gguf ... -o - | requant - out.gguf TYPE gives the same file as going
# through a file (the stream is read once, in order).
. "$SRC/tests/cli/requant/_common.inc"
hf2gguf "$SHARED/fixtures/hf-tiny-llama-bf16" -o - 2>/dev/null | requant -q - piped.gguf Q4_K_M
hf2gguf "$SHARED/fixtures/hf-tiny-llama-bf16" -o model.gguf 2>/dev/null
requant -q model.gguf direct.gguf Q4_K_M
cmp piped.gguf direct.gguf || fail "pipe and file differ"
# n_embd 64: K types fall back (Q4_K -> Q5_0, Q6_K -> Q8_0), output is Q8_0
"$HASHES" direct.gguf > t.tsv
grep -q '^output.weight	Q8_0	' t.tsv || fail "output"
grep -q '^blk.0.attn_q.weight	Q5_0	' t.tsv || fail "Q4_K fallback"
grep -q '^blk.1.attn_v.weight	Q8_0	' t.tsv || fail "Q6_K fallback"
