# --help shows usage with examples on stdout; bad usage exits 2.
. "$SRC/tests/cli/lib.sh"
gguf2onnx --help | grep -q '^examples:' || fail "no examples in --help"
gguf2onnx -V | grep -q '^gguf2onnx ' || fail "-V"
for args in "" "only-one" "a b c" "--weights q3 a b" "--graph fancy a b" "--kv-dtype f8 a b" "a -"; do
    # shellcheck disable=SC2086
    gguf2onnx $args 2>err.txt && fail "accepted: $args"
    [ $? = 2 ] || fail "exit code for: $args"
    grep -q '^gguf2onnx: ' err.txt || fail "message for: $args"
done
