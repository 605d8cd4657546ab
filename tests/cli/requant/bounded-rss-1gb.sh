# streaming: a 2.2 GB model (1.1 G params, F16; data is a file hole, so
# the test costs no disk) is quantized with peak RSS far below 300 MB,
# because each finished tensor's pages are dropped
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
set -o pipefail
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset 1b --sparse m.gguf
size=$(stat -c %s m.gguf)
[ "$size" -ge 1000000000 ] || fail "model is only $size bytes"
/usr/bin/time -v -o time.txt requant -q -j 2 m.gguf - Q8_0 | wc -c > out_bytes.txt
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
[ -n "$rss_kb" ] || fail "no RSS in /usr/bin/time -v output"
[ "$(cat out_bytes.txt)" -gt 1000000000 ] || fail "output is $(cat out_bytes.txt) bytes"
[ "$rss_kb" -le 307200 ] || fail "peak RSS ${rss_kb} kB > 300 MB for a $size-byte model"
