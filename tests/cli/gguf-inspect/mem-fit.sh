# --fit: the largest context that fits the CPU's limit, and the most layers
# that fit a GPU; checked against the plan at the answer and one step past it
# (--amx off: the limits are chosen for a CPU without llama.cpp's AMX buffer)
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
total() { gguf-inspect --json --no-tensors --mem --amx off "$@" "$m" | jq '[.memory.devices[].total_bytes] | max'; }
j=$(gguf-inspect --json --no-tensors --mem --amx off --fit CPU=20M "$m")
c=$(jq .memory.fit.value <<<"$j")
[ "$(jq -r .memory.fit.searched <<<"$j")" = ctx_size ] || fail "searched $(jq -c .memory.fit <<<"$j")"
[ "$(total -c "$c")" -le $((20 * 1024 * 1024)) ] || fail "-c $c does not fit"
[ "$(total -c $((c + 256)))" -gt $((20 * 1024 * 1024)) ] || fail "-c $((c + 256)) fits too"
# GPU0 of 8 MiB with 1024 tokens: as many layers as fit
j=$(gguf-inspect --json --no-tensors --mem -c 1024 --fit GPU0=8M "$m")
n=$(jq .memory.fit.value <<<"$j")
[ "$(jq -r .memory.fit.searched <<<"$j")" = n_gpu_layers ] && [ "$n" -ge 1 ] || fail "fit $(jq -c .memory.fit <<<"$j")"
gpu() { gguf-inspect --json --no-tensors --mem -c 1024 -ngl "$1" "$m" | jq '.memory.devices[1].total_bytes'; }
[ "$(gpu "$n")" -le $((8 * 1024 * 1024)) ] && [ "$(gpu $((n + 1)))" -gt $((8 * 1024 * 1024)) ] ||
    fail "-ngl $n: $(gpu "$n"), -ngl $((n + 1)): $(gpu $((n + 1)))"
gguf-inspect --no-tensors --no-kv --mem --fit CPU=1K "$m" | grep -q 'fit: nothing fits' || fail "1K fits"
