# A split into more than 9,999 files is refused before anything is written.
. "$SRC/tests/cli/gguf-edit/_common.inc"
MAKE_GGUF="$BUILD/fixtures/make_gguf"
[ -x "$MAKE_GGUF" ] || fail "$MAKE_GGUF not built (make BUILD=... all)"
# 2 + 9 * 1112 + 1 = 10,011 tensors; --sparse leaves the data a hole
"$MAKE_GGUF" --sparse --layers 1112 --embd 32 --ff 32 --heads 1 --kv-heads 1 --vocab 3 many.gguf
refuse 'gguf-edit: the split would need more than 9999 files*' \
    gguf-edit many.gguf out --split-max-tensors 1
