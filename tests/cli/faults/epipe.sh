# The reader of our stdout goes away (EPIPE): requant stops without a
# crash or sanitizer report and without a SIGPIPE death (status 141), and
# gguf-inspect likewise when its output is cut short.
. "$SRC/tests/cli/faults/_faults.inc"
small_model in.gguf
requant in.gguf - Q8_0 2>err | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
case "$rc" in 0 | 2) ;; *) fail "requant | head: exit $rc: $(cat err)" ;; esac
no_sanitizer err
assert_no_file ./-.tmp.* in.gguf.tmp.*
cat in.gguf | requant - - Q8_0 2>err | head -c 100 >/dev/null
rc=${PIPESTATUS[1]}
case "$rc" in 0 | 2) ;; *) fail "cat | requant | head: exit $rc: $(cat err)" ;; esac
no_sanitizer err
gguf-inspect in.gguf 2>err | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
case "$rc" in 0 | 2) ;; *) fail "gguf-inspect | head: exit $rc: $(cat err)" ;; esac
no_sanitizer err
