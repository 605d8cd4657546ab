# Split outputs are all or none (issue #14): when one shard of
# `hf2gguf --split-max-tensors` or `requant --keep-split` cannot be put in
# place, the shards already renamed are removed again; a write error
# (ulimit -f) or SIGTERM/SIGINT mid-set leaves no shard and no temp file.
# The runs are held at a known point without timing: the last shard's name
# is a FIFO, which is written in place, so opening it blocks until a
# reader comes; by then the other shards' temp files exist.
. "$SRC/tests/cli/faults/_faults.inc"
set -m
"$MH" --arch llama --dtype f32 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 \
    --vocab 300 --ctx 64 hf >/dev/null
"$MG" --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 64 --ctx 64 --type f32 \
    --split 3 in.gguf
[ -f in-00003-of-00003.gguf ] || fail "make_gguf --split 3 wrote no third shard"

# held PREFIX CMD...: start CMD writing PREFIX-0000K-of-00003.gguf with the
# third shard's name a FIFO; returns when CMD has opened shards 1 and 2
held() {
    local prefix=$1
    shift
    mkfifo "$prefix-00003-of-00003.gguf"
    "$@" 2>err &
    pid=$!
    wait_for "$prefix-00002-of-00003.gguf.tmp.*" 60 || fail "$* never opened shard 2: $(cat err)"
}
# none_left PREFIX: no shard of ours and no temp file
none_left() {
    assert_no_file "$1"-00001-of-00003.gguf "$1"-0000?-of-00003.gguf.tmp.*
    rm -f "$1-00003-of-00003.gguf"
}

for prog in hf2gguf requant; do
    if [ $prog = hf2gguf ]; then
        set -- hf2gguf -j 1 hf --split-max-tensors 8 -o hs.gguf
        p=hs
    else
        set -- requant -j 1 --keep-split in-00001-of-00003.gguf ks.gguf Q8_0
        p=ks
    fi
    # shard 2's name is taken before the commit: shard 1, renamed first,
    # is removed again
    held $p "$@"
    echo theirs > $p-00002-of-00003.gguf
    cat $p-00003-of-00003.gguf > /dev/null &
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 2 ] || fail "$prog, shard 2 taken: exit $rc: $(cat err)"
    grep -q "$p-00002-of-00003.gguf: already exists" err || fail "$prog: message: $(cat err)"
    no_sanitizer err
    [ "$(cat $p-00002-of-00003.gguf)" = theirs ] || fail "$prog replaced shard 2"
    rm $p-00002-of-00003.gguf
    none_left $p
    # a signal while the set is being written
    for sig in TERM INT; do
        held $p "$@"
        kill -$sig "$pid" # it waits in open() of the FIFO, or has not reached it yet
        rc=0
        wait "$pid" || rc=$?
        want=$((128 + $(kill -l $sig)))
        [ "$rc" = "$want" ] || fail "$prog SIG$sig: exit $rc, expected $want: $(cat err)"
        no_sanitizer err
        none_left $p
    done
    # a write error in the middle of the set
    rc=0
    (ulimit -f 8 && "$@") 2>err || rc=$?
    [ "$rc" = 2 ] || fail "$prog under ulimit -f: exit $rc: $(cat err)"
    grep -q "File too large" err || fail "$prog under ulimit -f: $(cat err)"
    no_sanitizer err
    assert_no_file $p-0000?-of-0000?.gguf $p-0000?-of-0000?.gguf.tmp.*
    # and without obstacles the whole set appears
    "$@" 2>err || fail "$prog: $(cat err)"
    [ -f $p-00003-of-00003.gguf ] || fail "$prog: no third shard"
done
