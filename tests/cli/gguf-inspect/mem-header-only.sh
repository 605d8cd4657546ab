# --mem reads no tensor data: a 405B header over a sparse ~810 GB file (no
# data written) plans in bounded memory (ulimit -v 1 GB) and time
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset llama-405b --sparse big.gguf
case "$PATH" in *asan*) ;; *) ulimit -v 1000000 ;; esac
start=$(date +%s%N)
gguf-inspect --json --no-kv --no-tensors --mem -c 8192 big.gguf >big.json || fail "exit $?"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
case "$PATH" in *asan*) ;; *) [ "$ms" -lt 1000 ] || fail "took $ms ms" ;; esac
# 126 layers, 8 kv heads of 128, 8192 cells, f16
[ "$(jq .memory.kv_cache_bytes big.json)" = $((126 * 8192 * 8 * 256 * 2)) ] || fail "405b kv $(jq .memory.kv_cache_bytes big.json)"
