# llama-quantize's operand habits: `IN TYPE` writes ggml-model-TYPE.gguf in
# IN's directory (the preset's name as the table spells it; a numeric ftype
# names the table's first row with that id), `IN OUT TYPE N` and `IN TYPE N`
# take a trailing thread count, and the bytes equal an explicit run's
. "$SRC/tests/cli/lib.sh"
mkdir m
"$BUILD/fixtures/make_gguf" --preset tiny --seed 3 m/model-f16.gguf
requant -q m/model-f16.gguf q8_0 || fail "IN TYPE: exit $?"
[ -f m/ggml-model-Q8_0.gguf ] || fail "no m/ggml-model-Q8_0.gguf: $(ls m)"
requant -q m/model-f16.gguf explicit.gguf Q8_0 1 || fail "IN OUT TYPE N: exit $?"
cmp m/ggml-model-Q8_0.gguf explicit.gguf || fail "default output differs from IN OUT TYPE"
requant -q m/model-f16.gguf Q4_K 2 || fail "IN TYPE N: exit $?"
[ -f m/ggml-model-Q4_K.gguf ] || fail "alias name: $(ls m)"
mv m/ggml-model-Q4_K.gguf q4_k.gguf
requant -q m/model-f16.gguf 15 || fail "IN FTYPE-ID: exit $?"
cmp m/ggml-model-Q4_K.gguf q4_k.gguf || fail "ftype 15 is not named Q4_K or differs"
(cd m && requant -q model-f16.gguf Q4_0) || fail "IN TYPE in the current directory"
[ -f m/ggml-model-Q4_0.gguf ] || fail "no m/ggml-model-Q4_0.gguf"
# the default name obeys -f like any output
rc=0
requant -q m/model-f16.gguf Q8_0 2> err.txt || rc=$?
[ "$rc" = 2 ] && grep -q 'ggml-model-Q8_0.gguf' err.txt || fail "existing default output: exit $rc $(cat err.txt)"
# a bad thread count is a usage error
rc=0
requant m/model-f16.gguf out.gguf Q8_0 x 2> err.txt || rc=$?
[ "$rc" = 2 ] && [ "$(tail -n1 err.txt)" = "Try 'requant --help' for more information." ] ||
    fail "bad NTHREADS: exit $rc $(cat err.txt)"
assert_no_file out.gguf
