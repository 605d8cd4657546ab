# SIGTERM or SIGINT while requant or hf2gguf writes: the process dies of
# that signal (after removing its temp file), no output appears, no
# *.tmp.* is left. Job control (set -m) keeps SIGINT deliverable to
# background jobs.
. "$SRC/tests/cli/faults/_faults.inc"
set -m
big_model in.gguf
"$MH" --arch llama --dtype f32 --layers 2 --embd 1024 --ff 2048 --heads 8 --kv-heads 8 \
    --vocab 2048 --ctx 64 hf >/dev/null
for sig in TERM INT; do
    requant -j 1 in.gguf out.gguf Q8_0 2>err &
    pid=$!
    wait_for 'out.gguf.tmp.*' 60 || fail "requant never started writing: $(cat err)"
    kill -$sig "$pid"
    rc=0
    wait "$pid" || rc=$?
    want=$((128 + $(kill -l $sig)))
    [ "$rc" = "$want" ] || fail "requant SIG$sig: exit $rc, expected $want: $(cat err)"
    no_sanitizer err
    assert_no_file out.gguf out.gguf.tmp.*
    hf2gguf hf -o out.gguf 2>err &
    pid=$!
    wait_for 'out.gguf.tmp.*' 60 || fail "hf2gguf never started writing: $(cat err)"
    kill -$sig "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" = "$want" ] || fail "hf2gguf SIG$sig: exit $rc, expected $want: $(cat err)"
    no_sanitizer err
    assert_no_file out.gguf out.gguf.tmp.*
done
