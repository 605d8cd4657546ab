# Existing output without -f, binary to a terminal, an unwritable directory
# and a non-GGUF input: exit 2 with "requant: FILE: ..." and nothing left.
. "$SRC/tests/cli/requant/_common.inc"
check() { # expected-message-glob command...
    local want=$1 rc=0
    shift
    "$@" 2> err.txt || rc=$?
    [ "$rc" = 2 ] || fail "$*: exit $rc"
    [[ "$(cat err.txt)" == $want ]] || fail "$*: message $(cat err.txt)"
}
touch exists.gguf
check 'requant: exists.gguf: already exists*' requant -q "$REF" exists.gguf Q8_0
[ -s exists.gguf ] && fail "exists.gguf overwritten"
check 'requant: -: refusing to write binary*' env GGUFKIT_FAKE_TTY=stdout requant -q "$REF" - Q8_0
check 'requant: nodir/x.gguf: *' requant -q "$REF" nodir/x.gguf Q8_0
printf 'not a model' > junk.gguf
check 'requant: junk.gguf: *' requant -q junk.gguf out.gguf Q8_0
head -c 100000 "$REF" > cut.gguf
check 'requant: cut.gguf: *' requant -q cut.gguf out.gguf Q8_0
assert_no_file out.gguf out.gguf.tmp.* nodir
