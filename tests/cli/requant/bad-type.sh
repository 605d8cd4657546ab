# An unknown TYPE is a usage error and leaves nothing behind.
. "$SRC/tests/cli/requant/_common.inc"
requant "$REF" out.gguf Q9_K && exit 0
rc=$?
assert_no_file out.gguf out.gguf.tmp.*
exit $rc
