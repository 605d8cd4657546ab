# --mem: KV cache = layers x ctx x kv_heads x (k+v head dim) x element size
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
kv=$(gguf-inspect --json --mem 1000 "$m" | node -pe 'JSON.parse(require("fs").readFileSync(0)).memory.kv_cache_bytes')
# 8 layers, 2 kv heads, head dim 64 (256/4): 8*1000*2*(64+64)*2 bytes
[ "$kv" = 4096000 ] || fail "f16 kv cache $kv"
kv=$(gguf-inspect --json --mem 1024 --kv-type q8_0 "$m" | node -pe 'JSON.parse(require("fs").readFileSync(0)).memory.kv_cache_bytes')
[ "$kv" = 2228224 ] || fail "q8_0 kv cache $kv"
