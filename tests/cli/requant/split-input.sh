# A shard of a split model is refused with a clear message (no --keep-split yet).
. "$SRC/tests/cli/requant/_common.inc"
"$BUILD/fixtures/make_gguf" --split 2 m.gguf
rc=0
requant m-00001-of-00002.gguf out.gguf Q8_0 2>err.txt || rc=$?
grep -q 'split input is not supported' err.txt || fail "message: $(cat err.txt)"
assert_no_file out.gguf
exit $rc
