# A tensor above --max-rel-error fails the run (exit 1) and leaves no output.
. "$SRC/tests/cli/requant/_common.inc"
requant -q --max-rel-error 0.5 "$REF" ok.gguf Q4_K_M
[ -f ok.gguf ] || fail "a loose threshold should pass"
rc=0
requant --max-rel-error 1e-6 "$REF" out.gguf Q4_K_M 2>err.txt || rc=$?
grep -q 'exceeds --max-rel-error' err.txt || fail "message: $(cat err.txt)"
assert_no_file out.gguf out.gguf.tmp.*
exit $rc
