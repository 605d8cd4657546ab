# requant's side files (--report, --html) are outputs like the model
# (issue #14): opened before the work, so an existing one is refused
# without -f and replaced with it; never an input (the model, the file
# stdin reads), even with -f; written atomically; and committed with the
# model, all or none: when a side file cannot be written, the model is not
# left either, and the message carries strerror. gguf2onnx's JSON files
# likewise: a tokenizer.json over the file size limit (a 12 KB token, the
# weights being smaller) leaves no OUTDIR and names the file and errno.
. "$SRC/tests/cli/faults/_faults.inc"
small_model m.gguf
sum=$(md5sum < m.gguf)
# bad FILE-IN-MESSAGE ERRNO-TEXT ARGS...: requant ARGS fails with exit 2,
# "requant: FILE: ...ERRNO-TEXT", and leaves no out.gguf and no temp file
bad() {
    local file=$1 text=$2 rc=0
    shift 2
    requant "$@" 2>err || rc=$?
    [ "$rc" = 2 ] || fail "requant $*: exit $rc: $(cat err)"
    grep -q "^requant: $file: .*$text" err || fail "requant $*: message: $(cat err)"
    no_sanitizer err
    assert_no_file out.gguf out.gguf.tmp.* r.json.tmp.* r.html.tmp.*
    [ "$(md5sum < m.gguf)" = "$sum" ] || fail "requant $*: the input was modified"
}
bad nodir/r.json "No such file or directory" --report nodir/r.json m.gguf out.gguf Q8_0
bad /dev/full "No space left on device" --report /dev/full m.gguf out.gguf Q8_0
bad /dev/full "No space left on device" --html /dev/full m.gguf out.gguf Q8_0
bad m.gguf "is the same file as input" -f --report m.gguf m.gguf out.gguf Q8_0
bad ./m.gguf "is the same file as input" -f --html ./m.gguf m.gguf out.gguf Q8_0
cp m.gguf stdin.json
bad stdin.json "is the same file as input" -f --report stdin.json - out.gguf Q8_0 < stdin.json
echo keep > r.json
bad r.json "already exists" --report r.json m.gguf out.gguf Q8_0
[ "$(cat r.json)" = keep ] || fail "existing report replaced without -f"
echo keep > r.html
bad r.html "already exists" --html r.html m.gguf out.gguf Q8_0
[ "$(cat r.html)" = keep ] || fail "existing page replaced without -f"
# with -f both are replaced, together with the model
requant -q -f --report r.json --html r.html m.gguf out.gguf Q8_0
jq -e '.type == "Q8_0"' r.json >/dev/null || fail "report not written"
grep -q '<html' r.html || fail "page not written"
[ -f out.gguf ] || fail "no model"
assert_no_file r.json.tmp.* r.html.tmp.* out.gguf.tmp.*

"$MG" --layers 1 --embd 8 --ff 8 --heads 1 --kv-heads 1 --vocab 16 --ctx 16 --type f32 t.gguf
python3 "$SRC/tests/cli/faults/long_token.py" t.gguf long.gguf 10 12000
rc=0
(ulimit -f 10 && gguf2onnx long.gguf ox) 2>err || rc=$?
[ "$rc" = 2 ] || fail "gguf2onnx under ulimit -f: exit $rc: $(cat err)"
grep -q "^gguf2onnx: ox: tokenizer.json: write failed: File too large" err ||
    fail "gguf2onnx: message: $(cat err)"
no_sanitizer err
assert_no_file ox ox.tmp.*
gguf2onnx -q long.gguf ox
[ "$(stat -c %s ox/tokenizer.json)" -gt 10240 ] || fail "tokenizer.json is not the largest file"
[ "$(stat -c %s ox/model.onnx.data)" -lt 10240 ] || fail "model.onnx.data over the limit"
[ "$(stat -c %s ox/model.onnx)" -lt 10240 ] || fail "model.onnx over the limit"
