# The README's contract holds for all six programs: -j N is accepted by
# every one, and a bad option prints exactly one line plus "Try 'prog
# --help'" on stderr (never the help), nothing on stdout, exit 2
. "$SRC/tests/cli/lib.sh"
mkdir m
"$BUILD/fixtures/make_gguf" --preset tiny --seed 5 m/model.gguf
gguf-inspect -j 2 m/model.gguf > /dev/null || fail "gguf-inspect -j: exit $?"
gguf2onnx -q -j 2 m/model.gguf onnx || fail "gguf2onnx -j: exit $?"
[ -f onnx/model.onnx ] || fail "gguf2onnx -j wrote no model"
requant -q -j 2 m/model.gguf q.gguf Q8_0 || fail "requant -j: exit $?"
gguf-verify hash -j 2 m/model.gguf > /dev/null || fail "gguf-verify -j: exit $?"
hf2gguf -h | grep -q -- '-j' || fail "hf2gguf has no -j"
gguf-edit -q -j 2 m/model.gguf e.gguf || fail "gguf-edit -j: exit $?"
usage_error() { # prog args...
    local rc=0
    "$@" > out.txt 2> err.txt || rc=$?
    [ "$rc" = 2 ] || fail "'$*': exit $rc"
    [ -s out.txt ] && fail "'$*': stdout not empty: $(head -3 out.txt)"
    [ "$(wc -l < err.txt)" = 2 ] && grep -q "^$1: " err.txt &&
        [ "$(tail -n1 err.txt)" = "Try '$1 --help' for more information." ] ||
        fail "'$*': not a one-line usage error: $(cat err.txt)"
}
for p in hf2gguf requant gguf-inspect gguf-verify gguf2onnx gguf-edit; do
    usage_error $p --no-such-option m/model.gguf
    usage_error $p -Z m/model.gguf
    usage_error $p -j nope m/model.gguf
done
usage_error hf2gguf
usage_error requant m/model.gguf
usage_error gguf-inspect
usage_error gguf-inspect a b
usage_error gguf-verify
usage_error gguf-verify frobnicate m/model.gguf
usage_error gguf-verify hash --strict m/model.gguf
usage_error gguf2onnx m/model.gguf
usage_error gguf2onnx --weights int3 m/model.gguf out
usage_error gguf-edit m/model.gguf
usage_error gguf-edit --set x=u8:256 m/model.gguf out.gguf
