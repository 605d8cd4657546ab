# --json streams, but every check that can fail runs before the first byte:
# a bad --tensor regex exits 2 with a message and nothing on stdout.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny t.gguf > /dev/null
rc=0
gguf-inspect --json --tensor '(' t.gguf > out.json 2> err.txt || rc=$?
[ $rc = 2 ] || fail "exit $rc"
[ ! -s out.json ] || fail "partial output: $(head -c 200 out.json)"
grep -q "bad --tensor regex" err.txt || fail "message: $(cat err.txt)"
gguf-inspect --json --tensor 'blk' t.gguf | jq -e '.tensors | length > 0' > /dev/null ||
    fail "a good regex selects tensors"
