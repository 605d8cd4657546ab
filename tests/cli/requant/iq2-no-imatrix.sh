# IQ2_XXS without an imatrix is an impossible combination.
. "$SRC/tests/cli/requant/_common.inc"
rc=0
requant "$REF" out.gguf IQ2_XXS 2>err.txt || rc=$?
grep -q 'needs an importance matrix' err.txt || fail "message: $(cat err.txt)"
# IQ2_M's mixture gives some tensors IQ2_S, which needs one too
requant "$REF" out.gguf IQ2_M 2>err2.txt && fail "IQ2_M accepted"
grep -q "needs an importance matrix" err2.txt || fail "message: $(cat err2.txt)"
assert_no_file out.gguf
exit $rc
