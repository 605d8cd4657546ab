# zstd bombs: a few KB that decompress to 64-512 MiB. With
# GGUFKIT_ZSTD_MAX=1M every reader stops at the limit: exit 2, a message
# naming the limit, no output, bounded memory. One bomb hides in a header
# string (even gguf-inspect must stop), one in tensor data (requant must).
. "$SRC/tests/cli/hostile/_hostile.inc"
$MK gguf-bomb-string s.hdr
$MK gguf-bomb-tensor t.hdr
{ cat s.hdr; head -c 67108864 /dev/zero | tr '\0' 'a'; } | zstd -q -1 -c > string.gguf.zst
{ cat t.hdr; head -c 536870912 /dev/zero; } | zstd -q -1 -c > tensor.gguf.zst
for f in string.gguf.zst tensor.gguf.zst; do
    [ "$(stat -c %s $f)" -lt 100000 ] || fail "$f is not tiny"
done
export GGUFKIT_ZSTD_MAX=1M
refused "1048576" out.txt gguf-inspect string.gguf.zst
refused "1048576" out.txt gguf-inspect - < string.gguf.zst
refused "1048576" out.gguf requant string.gguf.zst out.gguf Q8_0
refused "1048576" out.gguf requant tensor.gguf.zst out.gguf Q8_0
refused "1048576" out.gguf requant - out.gguf Q8_0 < tensor.gguf.zst
