# Q1_0 has no fallback type (llama-quantize ec562eb throws "no tensor type
# fallback is defined for type q1_0"): rows of 64 stop the run before any
# output, on a file and on a pipe.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" m.gguf
rc=0
requant -q m.gguf out.gguf Q1_0 || rc=$?
assert_no_file out.gguf
cat m.gguf | requant -q - - Q1_0 > piped.gguf 2> err.txt && fail "pipe accepted"
grep -q "not a multiple of Q1_0's block size 128 and Q1_0 has no fallback type" err.txt ||
    fail "pipe message: $(cat err.txt)"
[ -s piped.gguf ] && fail "partial output on stdout"
exit $rc
