# The feed-forward length key is absent (renamed in place): exit 2, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
python3 -c "
import sys
d = open('m.gguf', 'rb').read()
k = b'llama.feed_forward_length'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'llama.feed_forward_lengtX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
