# --tensor-type-file FILE: REGEX=TYPE entries separated by spaces or
# newlines, in order with --tensor-type (first match wins). A bad entry or
# a missing file is a usage error naming the file.
. "$SRC/tests/cli/requant/_common.inc"
printf 'attn_q=q8_0   ATTN_K=q5_0\n\n  ffn_up=f16\n' > types.txt
requant -q --tensor-type 'attn_q=q6_k' --tensor-type-file types.txt "$REF" a.gguf Q4_K_M
"$HASHES" a.gguf > a.tsv
grep -q '^blk\.2\.attn_q\.weight	Q6_K	' a.tsv || fail "command line first"
grep -q '^blk\.2\.attn_k\.weight	Q5_0	' a.tsv || fail "file entry (lower-cased)"
grep -q '^blk\.2\.ffn_up\.weight	F16	' a.tsv || fail "second line"
requant -q --tensor-type-file types.txt "$REF" b.gguf Q4_K_M
"$HASHES" b.gguf | grep -q '^blk\.2\.attn_q\.weight	Q8_0	' || fail "file alone"
printf 'attn_q=q8_0\nattn_k\n' > bad.txt
rc=0
requant --tensor-type-file bad.txt "$REF" e.gguf Q4_K_M 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "bad entry: exit $rc"
grep -q "bad.txt: .*'attn_k': expected REGEX=TYPE" err.txt || fail "bad entry: $(cat err.txt)"
printf 'attn_q=q9_9\n' > bad2.txt
rc=0
requant --tensor-type-file bad2.txt "$REF" e.gguf Q4_K_M 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "bad type: exit $rc"
grep -q "unknown type 'q9_9'" err.txt || fail "bad type: $(cat err.txt)"
rc=0
requant --tensor-type-file missing.txt "$REF" e.gguf Q4_K_M 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "missing file: exit $rc"
grep -q 'missing.txt: cannot open' err.txt || fail "missing file: $(cat err.txt)"
assert_no_file e.gguf
