# --help lists every option the man page documents; -V is the version line.
. "$SRC/tests/cli/lib.sh"
gguf-edit --help >help.txt
for o in --set --set-array --remove --chat-template --chat-template-name --special-token \
    --add-bos --no-add-eos --in-place --dry-run --json --split-max-size --split-max-tensors \
    --no-tensor-first-split --merge --zstd --force --output --rename-tensor --drop-tensor; do
    grep -q -- "$o" help.txt || fail "--help lacks $o"
    grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$SRC/docs/gguf-edit.1" || fail "man page lacks $o"
done
gguf-edit -V | grep -q '^gguf-edit [0-9.]* (simd: ' || fail "bad version line"
