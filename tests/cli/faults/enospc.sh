# A full disk: RLIMIT_FSIZE (ulimit -f; SIGXFSZ is ignored so write fails
# with EFBIG) and /dev/full (ENOSPC). requant and hf2gguf fail with exit 2
# and a message naming the error, leave no output and no temp file.
. "$SRC/tests/cli/faults/_faults.inc"
small_model in.gguf
"$MH" --arch llama --dtype f32 --layers 1 --embd 64 --ff 128 --heads 2 --kv-heads 1 \
    --vocab 300 --ctx 64 hf >/dev/null
rc=0
(ulimit -f 16 && requant in.gguf out.gguf Q8_0) 2>err || rc=$?
[ "$rc" = 2 ] || fail "requant under ulimit -f: exit $rc: $(cat err)"
grep -q "File too large" err || fail "requant: message: $(cat err)"
no_sanitizer err
assert_no_file out.gguf out.gguf.tmp.*
rc=0
(ulimit -f 16 && hf2gguf hf -o out.gguf) 2>err || rc=$?
[ "$rc" = 2 ] || fail "hf2gguf under ulimit -f: exit $rc: $(cat err)"
grep -q "File too large" err || fail "hf2gguf: message: $(cat err)"
no_sanitizer err
assert_no_file out.gguf out.gguf.tmp.*
# stdout on /dev/full, and /dev/full as the output path
rc=0
requant in.gguf - Q8_0 >/dev/full 2>err || rc=$?
[ "$rc" = 2 ] || fail "requant > /dev/full: exit $rc: $(cat err)"
grep -q "No space left on device" err || fail "requant > /dev/full: message: $(cat err)"
no_sanitizer err
rc=0
hf2gguf hf -o /dev/full 2>err || rc=$?
[ "$rc" = 2 ] || fail "hf2gguf -o /dev/full: exit $rc: $(cat err)"
grep -q "No space left on device" err || fail "hf2gguf -o /dev/full: message: $(cat err)"
no_sanitizer err
