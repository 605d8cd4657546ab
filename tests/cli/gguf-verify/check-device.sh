# a manifest line naming a device is refused, not hashed forever
. "$SRC/tests/cli/lib.sh"
printf '%064d  /dev/zero\n' 0 > m.sha256
timeout 20 gguf-verify check m.sha256 > out.txt 2> err.txt && fail "device accepted"
[ $? = 1 ] || fail "exit status"
grep -q "not a regular file" err.txt || fail "message: $(cat err.txt)"
