# --help shows usage with examples on stdout; bad usage exits 2.
. "$SRC/tests/cli/lib.sh"
gguf2onnx --help | grep -q '^examples:' || fail "no examples in --help"
gguf2onnx -V | grep -q '^gguf2onnx [0-9.]* (simd: [a-z0-9]*)$' || fail "-V"
for args in "" "only-one" "a b c" "--weights q3 a b" "--graph fancy a b" "--kv-dtype f8 a b" "a -"; do
    # shellcheck disable=SC2086
    gguf2onnx $args 2>err.txt && fail "accepted: $args"
    [ $? = 2 ] || fail "exit code for: $args"
    grep -q '^gguf2onnx: ' err.txt || fail "message for: $args"
    [ "$(tail -n1 err.txt)" = "Try 'gguf2onnx --help' for more information." ] || fail "pointer to --help for: $args"
    [ "$(wc -l < err.txt)" = 2 ] || fail "more than the usage error for: $args"
done
