# Progress on a terminal (a pty from script(1)): hf2gguf, requant,
# gguf2onnx, gguf-verify hash and diff draw "label  i/n  pct%  R MB/s  ETA
# m:ss  tensor" lines, throttled (never one per tensor or chunk), cleared at
# the end; nothing under -q, and nothing when stderr is not a terminal.
# Updates are counted against the work done and the run's own duration (at
# most 6 a second), never against a fixed time.
. "$SRC/tests/cli/lib.sh"
command -v script > /dev/null || fail "script (util-linux) missing"
"$BUILD/fixtures/make_hf" --arch llama --dtype bf16 --layers 4 --embd 256 --ff 512 --heads 4 \
    --kv-heads 2 --vocab 1024 --seed 1 hf > /dev/null
ntensors=39
on_tty() { # name command...: run under a pty, check the progress lines
    local name=$1 t0 t1 draws
    shift
    t0=$(date +%s%N)
    script -qfec "$*" /dev/null > "$name.tty" < /dev/null || fail "$name: exit $?: $(cat -v "$name.tty" | tail -3)"
    t1=$(date +%s%N)
    tr '\r' '\n' < "$name.tty" | grep -a 'ETA' > "$name.lines" || fail "$name: no progress line: $(cat -v "$name.tty" | head -3)"
    grep -aqE '^[a-z]+  [0-9]+/[0-9]+  +[0-9.]+%  [0-9.]+ MB/s  ETA [0-9]+:[0-9][0-9]  [a-z_.0-9]+weight *$' "$name.lines" ||
        fail "$name: progress line format: $(head -2 "$name.lines")"
    draws=$(wc -l < "$name.lines")
    [ "$draws" -lt "$ntensors" ] || fail "$name: $draws draws for $ntensors tensors (not throttled)"
    [ "$draws" -le $(( 2 + (t1 - t0) * 6 / 1000000000 )) ] ||
        fail "$name: $draws draws in $(( (t1 - t0) / 1000000 )) ms: more than 6 a second"
    # the line is erased before the program ends: the last \r-separated
    # piece that holds the progress line is followed by a blank-out
    tr '\r' '\n' < "$name.tty" | tail -n +2 | grep -aq '^ *$' || fail "$name: progress line never cleared"
}
on_tty hf2gguf hf2gguf --outtype f16 hf -o m.gguf
on_tty requant requant m.gguf q.gguf Q4_0
on_tty verify-hash gguf-verify hash m.gguf
on_tty verify-diff gguf-verify diff m.gguf q.gguf
on_tty gguf2onnx gguf2onnx q.gguf onnx
# -q: no progress on a terminal either
script -qfec "requant -q -f m.gguf q.gguf Q4_0" /dev/null > q.tty < /dev/null || fail "requant -q: exit $?"
grep -aq 'ETA' q.tty && fail "progress under -q: $(cat -v q.tty)"
script -qfec "gguf-verify hash -q m.gguf" /dev/null > q2.tty < /dev/null || fail "hash -q: exit $?"
grep -aq 'ETA' q2.tty && fail "hash progress under -q"
# stderr not a terminal: no progress (and no \r) even with stdout on one
script -qfec "hf2gguf -f --outtype f16 hf -o m.gguf 2> err.txt" /dev/null > /dev/null < /dev/null || fail "hf2gguf: exit $?"
grep -aq $'\r' err.txt && fail "progress on a non-terminal stderr: $(cat -v err.txt)"
gguf-verify diff m.gguf q.gguf > /dev/null 2> err2.txt
grep -aq $'\r' err2.txt && fail "diff progress on a non-terminal stderr"
exit 0
