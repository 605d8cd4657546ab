# The reader of our stdout goes away (EPIPE): requant stops with exit 2 and
# "broken pipe", without a SIGPIPE death (status 141), a crash or a
# sanitizer report; gguf-inspect likewise survives a cut-short listing.
. "$SRC/tests/cli/faults/_faults.inc"
# ~5 MB F32 -> ~1.4 MB Q8_0: more than a pipe buffer, so the write fails
"$MG" --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --vocab 256 --ctx 64 --type f32 in.gguf
requant in.gguf - Q8_0 2>err | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 2 ] || fail "requant | head: exit $rc: $(cat err)"
grep -q "broken pipe" err || fail "requant | head: message: $(cat err)"
no_sanitizer err
cat in.gguf | requant - - Q8_0 2>err | head -c 100 >/dev/null
rc=${PIPESTATUS[1]}
[ "$rc" = 2 ] || fail "cat | requant | head: exit $rc: $(cat err)"
grep -q "broken pipe" err || fail "cat | requant | head: message: $(cat err)"
no_sanitizer err
assert_no_file in.gguf.tmp.*
gguf-inspect in.gguf 2>err | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
case "$rc" in 0 | 2) ;; *) fail "gguf-inspect | head: exit $rc: $(cat err)" ;; esac
no_sanitizer err
