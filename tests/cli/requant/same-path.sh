# OUTPUT equal to INPUT is refused (even with -f); the input is untouched.
. "$SRC/tests/cli/requant/_common.inc"
cp "$REF" in.gguf
sum=$(md5sum < in.gguf)
rc=0
requant -f in.gguf in.gguf Q8_0 || rc=$?
[ "$(md5sum < in.gguf)" = "$sum" ] || fail "input modified"
ln -s in.gguf link.gguf
requant -f in.gguf link.gguf Q8_0 && fail "symlink to input accepted"
assert_no_file in.gguf.tmp.*
exit $rc
