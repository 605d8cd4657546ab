# Inputs that cannot be read: a directory, a missing file, a closed stdin,
# a terminal-less empty stream. Exit 2 with a message naming the input, no
# output left behind.
. "$SRC/tests/cli/faults/_faults.inc"
mkdir adir
for prog in "requant adir out.gguf Q8_0" "gguf-inspect adir" "requant missing.gguf out.gguf Q8_0" \
    "gguf-inspect missing.gguf"; do
    rc=0
    $prog >/dev/null 2>err || rc=$?
    [ "$rc" = 2 ] || fail "$prog: exit $rc: $(cat err)"
    grep -q "adir\|missing.gguf" err || fail "$prog: message: $(cat err)"
    no_sanitizer err
done
rc=0
requant - out.gguf Q8_0 <&- 2>err || rc=$?
[ "$rc" = 2 ] || fail "closed stdin: exit $rc: $(cat err)"
no_sanitizer err
rc=0
requant - out.gguf Q8_0 </dev/null 2>err || rc=$?
[ "$rc" = 2 ] || fail "empty stdin: exit $rc: $(cat err)"
no_sanitizer err
assert_no_file out.gguf out.gguf.tmp.*
