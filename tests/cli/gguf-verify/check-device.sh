# a manifest line naming a device is refused (exit 2), not hashed forever:
# as an absolute name outside the manifest's directory, and with
# --allow-outside as not a regular file
. "$SRC/tests/cli/lib.sh"
printf '%064d  /dev/zero\n' 0 > m.sha256
rc=0
timeout 20 gguf-verify check m.sha256 > out.txt 2> err.txt || rc=$?
[ $rc = 2 ] || fail "exit status $rc"
grep -q "/dev/zero: absolute name outside the manifest's directory" err.txt || fail "message: $(cat err.txt)"
rc=0
timeout 20 gguf-verify check --allow-outside m.sha256 > out.txt 2> err.txt || rc=$?
[ $rc = 2 ] || fail "exit status $rc with --allow-outside"
grep -q "/dev/zero: not a regular file" err.txt || fail "message: $(cat err.txt)"
grep -qx "/dev/zero: FAILED open or read" out.txt || fail "result line: $(cat out.txt)"
