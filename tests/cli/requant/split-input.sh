# Split input: any shard opens the whole set. Without --keep-split the
# output is one file, identical to quantizing the unsplit model; with it,
# one file per shard (OUT-0000K-of-0000N.gguf, as llama-quantize names
# them) with split.no/split.count (u16) and split.tensors.count (i32) last,
# and the same tensor data. A missing shard is bad input.
. "$SRC/tests/cli/requant/_common.inc"
"$BUILD/fixtures/make_gguf" --split 3 m.gguf
"$BUILD/fixtures/make_gguf" u.gguf
requant -q u.gguf un.gguf Q4_K_M
requant -q m-00002-of-00003.gguf merged.gguf Q4_K_M
cmp merged.gguf un.gguf || fail "merged output differs from the unsplit model's"
requant -q --keep-split m-00001-of-00003.gguf ks.gguf Q4_K_M
[ ! -e ks.gguf ] || fail "--keep-split wrote ks.gguf"
for k in 1 2 3; do
    f=ks-0000$k-of-00003.gguf
    [ -f "$f" ] || fail "$f missing"
    python3 "$HERE/gguf_kv.py" "$f" | tail -n 3 > kv.txt
    printf '%s\n' "split.no	u16	$((k - 1))" 'split.count	u16	3' 'split.tensors.count	i32	21' |
        diff - kv.txt || fail "$f: split keys"
    "$HASHES" "$f" >> ks.tsv
    "$HASHES" "m-0000$k-of-00003.gguf" | cut -f1 > in-names.txt
    "$HASHES" "$f" | cut -f1 | cmp - in-names.txt || fail "$f: not the shard's tensors in order"
done
[ "$(python3 "$HERE/gguf_kv.py" ks-00002-of-00003.gguf | grep -vc '^version	')" = 3 ] ||
    fail "shard 2 should hold only the split keys"
sort ks.tsv > a.tsv
"$HASHES" un.gguf | sort > b.tsv
cmp a.tsv b.tsv || fail "--keep-split tensor data differs"
# a missing shard
rm m-00003-of-00003.gguf
rc=0
requant m-00001-of-00003.gguf out.gguf Q8_0 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "missing shard: exit $rc"
grep -q 'm-00003-of-00003.gguf' err.txt || fail "message: $(cat err.txt)"
assert_no_file out.gguf
echo ok
