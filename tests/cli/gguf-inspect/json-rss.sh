# --json is streamed: its peak RSS on the falcon vocabulary (65k tokens and
# merges, 2.9 MB of JSON) stays within 4 MB of the text view's --full, where
# the jansson tree it replaced took 20 MB more (ASan's shadow memory would
# dominate: not checked there).
. "$SRC/tests/cli/lib.sh"
need_shared
case "$PATH" in */asan/*) ASAN=1 ;; *) ASAN=0 ;; esac
f=$SHARED/fixtures/real/ggml-vocab-falcon.gguf
/usr/bin/time -f %M -o rss.text gguf-inspect --full "$f" > text.out
/usr/bin/time -f %M -o rss.json gguf-inspect --json "$f" > json.out
[ "$(wc -c < json.out)" -gt 2000000 ] || fail "--json output is only $(wc -c < json.out) bytes"
t=$(tail -n1 rss.text)
j=$(tail -n1 rss.json)
[ "$ASAN" = 1 ] || [ "$j" -lt $((t + 4096)) ] || fail "--json peak RSS $j kB, --full $t kB"
