# The input is truncated by someone else while requant reads it (through a
# mapping, where the lost pages fault with SIGBUS): requant stops with exit
# 2 and "input file shrank while reading", leaving no output or temp file.
. "$SRC/tests/cli/faults/_faults.inc"
big_model in.gguf
requant -j 1 in.gguf out.gguf Q8_0 2>err &
pid=$!
wait_for 'out.gguf.tmp.*' 60 || fail "requant never started writing: $(cat err)"
truncate -s 4096 in.gguf
rc=0
wait "$pid" || rc=$?
[ "$rc" = 2 ] || fail "requant exit $rc after the input shrank: $(cat err)"
grep -q "in.gguf: input file shrank while reading" err || fail "message: $(cat err)"
no_sanitizer err
assert_no_file out.gguf out.gguf.tmp.*
