# Bounded memory: a 2.2 GB model (data a file hole: no disk) edited to
# stdout with peak RSS far below its size, because tensor bytes are
# written from the mapping in chunks whose pages are then dropped.
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
set -o pipefail
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset 1b --sparse m.gguf
size=$(stat -c %s m.gguf)
[ "$size" -ge 1000000000 ] || fail "model is only $size bytes"
/usr/bin/time -v -o time.txt gguf-edit -q -f m.gguf - --set 'general.name=str:big' | wc -c >out_bytes.txt
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
[ -n "$rss_kb" ] || fail "no RSS in /usr/bin/time -v output"
[ "$(cat out_bytes.txt)" -ge "$size" ] || fail "output is $(cat out_bytes.txt) bytes, input $size"
[ "$rss_kb" -le 102400 ] || fail "peak RSS ${rss_kb} kB > 100 MB for a $size-byte model"
echo "peak RSS ${rss_kb} kB for $size bytes" >&2
