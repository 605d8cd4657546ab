# stdout that cannot take what a program prints (issue #14): text (help,
# version, lists, plans, JSON, views, digests) on /dev/full ends every
# program with exit 2 and
# "-: write failed: No space left on device", never exit 0; a binary
# stream whose reader goes away midway ends with "broken pipe", also when
# the input is a large stream (spilled, not refused); under ulimit -f the
# redirected stdout fails with "File too large".
. "$SRC/tests/cli/faults/_faults.inc"
small_model in.gguf
"$MH" --arch llama --dtype f32 --layers 1 --embd 64 --ff 128 --heads 2 --kv-heads 1 \
    --vocab 300 --ctx 64 hf >/dev/null
full() { # PROGRAM ARGS...: stdout on /dev/full
    local rc=0
    "$@" >/dev/full 2>err || rc=$?
    [ "$rc" = 2 ] || fail "$* > /dev/full: exit $rc: $(cat err)"
    grep -q "^$1: -: write failed: " err || fail "$* > /dev/full: message: $(cat err)"
    no_sanitizer err
}
full requant -h
full requant -V
full requant --list
full requant --dry-run in.gguf o.gguf Q8_0
full requant --dry-run --json in.gguf o.gguf Q8_0
full requant in.gguf - Q8_0
full hf2gguf -h
full hf2gguf --list-archs
full hf2gguf --dry-run hf
full hf2gguf hf -o -
full gguf2onnx -h
full gguf2onnx -V
full gguf-inspect in.gguf
full gguf-verify hash in.gguf
grep -q "No space left on device" err || fail "gguf-verify hash: $(cat err)"
assert_no_file o.gguf

# midway: a ~100 MB stream (more than requant could keep in memory) to a
# reader that stops after 1000 bytes
big_model big.gguf
rc=0
cat big.gguf | requant -j 2 - - Q8_0 2>err | head -c 1000 >/dev/null || true
rc=${PIPESTATUS[1]}
[ "$rc" = 2 ] || fail "cat | requant | head: exit $rc: $(cat err)"
grep -q "^requant: -: broken pipe" err || fail "cat | requant | head: message: $(cat err)"
no_sanitizer err
rc=0
(ulimit -f 64 && requant -j 2 big.gguf - Q8_0 >out.gguf) 2>err || rc=$?
[ "$rc" = 2 ] || fail "requant > file under ulimit -f: exit $rc: $(cat err)"
grep -q "write failed: File too large" err || fail "ulimit -f: message: $(cat err)"
no_sanitizer err
