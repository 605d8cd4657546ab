# An existing OUTDIR is kept without -f, replaced with -f when it holds only
# gguf2onnx's files, and never replaced when it holds anything else.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
mkdir out
gguf2onnx -q m.gguf out 2>err.txt && fail "overwrote without -f"
grep -q 'already exists (use -f' err.txt || fail "message: $(cat err.txt)"
gguf2onnx -q -f m.gguf out
[ -s out/model.onnx ] || fail "no model after -f"
gguf2onnx -q -f m.gguf out
touch out/notes.txt
gguf2onnx -q -f m.gguf out 2>err.txt && fail "replaced a directory with a foreign file"
grep -q "holds 'notes.txt'" err.txt || fail "message: $(cat err.txt)"
[ -e out/notes.txt ] || fail "foreign file removed"
assert_no_file out.tmp.*
