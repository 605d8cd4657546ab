# --tensor-type REGEX=TYPE (first match wins), --pure, --leave-output-tensor,
# --output-tensor-type and --token-embedding-type.
. "$SRC/tests/cli/requant/_common.inc"
requant -q --tensor-type 'attn_(q|k)\.=q8_0' --tensor-type 'attn_q=f16' "$REF" a.gguf Q4_K_M
"$HASHES" a.gguf > a.tsv
grep -q '^blk.2.attn_q.weight	Q8_0	' a.tsv || fail "first match"
grep -q '^blk.2.attn_k.weight	Q8_0	' a.tsv || fail "alternation"
grep -q '^blk.2.attn_output.weight	Q4_K	' a.tsv || fail "untouched"
requant -q --pure "$REF" b.gguf Q4_K_M
"$HASHES" b.gguf | awk '$2 != "F32" && $2 != "Q4_K"' | grep . && fail "--pure"
requant -q --leave-output-tensor --token-embedding-type q8_0 "$REF" c.gguf Q4_K_M
"$HASHES" c.gguf > c.tsv
grep -q '^output.weight	F16	' c.tsv || fail "--leave-output-tensor"
grep -q '^token_embd.weight	Q8_0	' c.tsv || fail "--token-embedding-type"
requant -q --output-tensor-type q4_0 "$REF" d.gguf Q6_K
"$HASHES" d.gguf | grep -q '^output.weight	Q4_0	' || fail "--output-tensor-type"
requant --tensor-type 'attn_q=nope' "$REF" e.gguf Q4_K_M 2>/dev/null && fail "bad type accepted"
requant --tensor-type '(=q8_0' "$REF" e.gguf Q4_K_M 2>/dev/null && fail "bad regex accepted"
assert_no_file e.gguf
