# No byte from a file reaches the terminal raw: escape sequences in a GGUF's
# architecture, keys, values and tensor names are shown with '?' (or \x1b
# inside quoted values) by the text views (gguf-inspect, requant --dry-run,
# gguf-verify diff), in error messages naming the
# architecture, and in manifest names on stdout and stderr. --key and
# gguf-verify hash print the bytes raw into a pipe or a file (scripts and
# manifests need them) but not onto a terminal (script(1) gives a pty).
. "$SRC/tests/cli/hostile/_hostile.inc"
esc=$(printf '\033')
no_esc() { # FILE WHAT: FILE holds no ESC byte
    ! grep -q "$esc" "$1" || fail "$2: an escape byte reached the output"
}
$MK gguf-escapes e.gguf
gguf-inspect --full e.gguf > full.txt 2>&1
no_esc full.txt "gguf-inspect --full"
grep -q '^  w?\[1mw ' full.txt || fail "tensor name: $(cat full.txt)"
grep -q '^architecture    ?\[31mevil$' full.txt || fail "architecture"
gguf-inspect --json e.gguf > e.json
no_esc e.json "gguf-inspect --json"
rc=0
gguf2onnx e.gguf onnx-out > out.txt 2>&1 || rc=$?
[ $rc = 2 ] || fail "gguf2onnx exit $rc"
no_esc out.txt "gguf2onnx's error"
grep -q "unsupported architecture '?\[31mevil'" out.txt || fail "message: $(cat out.txt)"

requant --dry-run e.gguf out.gguf Q8_0 > plan.txt 2>&1 || fail "requant --dry-run: $(cat plan.txt)"
no_esc plan.txt "requant --dry-run"
gguf-verify diff e.gguf e.gguf > diff.txt 2>&1 || fail "gguf-verify diff: $(cat diff.txt)"
no_esc diff.txt "gguf-verify diff"
grep -q '^  w?\[1mw ' diff.txt || fail "diff row: $(cat diff.txt)"

# --key: raw into a pipe, escaped on a terminal
gguf-inspect --key general.name e.gguf > raw.txt
grep -q "n${esc}\[5mn" raw.txt || fail "--key into a pipe is not raw"
script -qec "gguf-inspect --key general.name e.gguf" /dev/null > tty.txt
no_esc tty.txt "--key on a terminal"
grep -q 'n?\[5mn' tty.txt || fail "--key on a terminal: $(cat tty.txt)"

# manifests: hash keeps the bytes for check, but not on a terminal
gguf-verify hash e.gguf > e.manifest
grep -q "e.gguf:w${esc}\[1mw$" e.manifest || fail "hash into a file is not raw"
gguf-verify check e.manifest > out.txt 2>&1 || fail "check of raw names: $(cat out.txt)"
no_esc out.txt "gguf-verify check's results"
grep -qx 'e.gguf:w?\[1mw: OK' out.txt || fail "result line: $(cat out.txt)"
script -qec "gguf-verify hash e.gguf" /dev/null > tty.txt
no_esc tty.txt "gguf-verify hash on a terminal"
printf '%064d  a\033[2Jb\n' 0 > bad.sha256
gguf-verify check bad.sha256 > out.txt 2>&1 && fail "a missing file passed"
no_esc out.txt "gguf-verify check's messages"
grep -q 'a?\[2Jb: FAILED open or read' out.txt || fail "result: $(cat out.txt)"
