# --mem: KV cache = layers x cells x (K row + V row), cells padded to 256 as
# llama.cpp pads the context; quantized rows by whole blocks; the older
# spelling --mem CTX --kv-type T still works
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
kv() { gguf-inspect --json --no-tensors "$@" "$m" | jq .memory.kv_cache_bytes; }
# 8 layers, 2 kv heads of 64 (256/4): 1000 tokens pad to 1024 cells
[ "$(kv --mem 1000)" = $((8 * 1024 * 2 * (64 + 64) * 2)) ] || fail "f16 kv cache $(kv --mem 1000)"
[ "$(kv --mem -c 1000)" = $((8 * 1024 * 2 * (64 + 64) * 2)) ] || fail "-c kv cache"
# q8_0: 128-element rows are 4 blocks of 34 bytes
[ "$(kv --mem 1024 --kv-type q8_0)" = $((8 * 1024 * 2 * 4 * 34)) ] || fail "q8_0 kv cache $(kv --mem 1024 --kv-type q8_0)"
# K q4_0 (4 x 18), V f16; -np 2 gives two streams of 512 cells
[ "$(kv --mem -c 1024 -np 2 -ctk q4_0 -ctv f16)" = $((8 * 2 * 512 * (4 * 18 + 128 * 2))) ] || fail "-np 2 kv"
# one GPU with -ngl 9 (8 layers + output): every layer's KV is there
j=$(gguf-inspect --json --no-tensors --mem -c 1024 -ngl 9 "$m")
[ "$(jq -c '[.memory.devices[] | [.device, .layers, .kv_cache_bytes]]' <<<"$j")" = \
    '[["CPU",0,0],["GPU0",8,4194304]]' ] || fail "-ngl 9: $(jq -c .memory.devices <<<"$j")"
# the token embedding stays on the CPU
[ "$(jq '.memory.devices[0].weights_bytes > 0' <<<"$j")" = true ] || fail "no CPU weights"
# -ts 3,1: 9 layers (8 + output) split at 3/4: 7 on GPU0, 2 on GPU1 (layer 7 and the output)
j=$(gguf-inspect --json --no-tensors --mem -c 1024 -ts 3,1 "$m")
[ "$(jq -c '[.memory.devices[].layers]' <<<"$j")" = '[0,7,1]' ] || fail "-ts 3,1: $(jq -c .memory.devices <<<"$j")"
# text view: one row per device, totals
gguf-inspect --no-tensors --no-kv --mem -c 2048 -ts 1,1 "$m" >out.txt
grep -q '^memory at context 2048 ' out.txt || fail "$(cat out.txt)"
grep -q '^  GPU1 ' out.txt && grep -q '^  total ' out.txt || fail "$(cat out.txt)"
# --amx on: llama.cpp's AMX buffer takes every F16 matmul weight of ref-llama
# (rows in 32s) as is, out of the mapping; the token embedding stays mapped
# with the norms around it; -nr turns it off again; the text view names it
amx() { gguf-inspect --json --no-tensors --mem -c 1024 "$@" "$m" | jq -c '.memory.devices[0] | [.weights_bytes, .amx_bytes]'; }
off=$(amx --amx off) on=$(amx --amx on)
[ "$(jq '.[1]' <<<"$off")" = 0 ] && [ "$(jq '.[1] > 0' <<<"$on")" = true ] || fail "--amx: off $off, on $on"
mm=$(gguf-inspect --json --no-kv "$m" | jq '[.tensors[] | select(.name != "token_embd.weight" and .type == "F16" and (.shape | length) == 2) | .bytes] | add')
[ "$(jq '.[1]' <<<"$on")" = "$mm" ] || fail "--amx on: AMX $(jq '.[1]' <<<"$on"), F16 matmul weights $mm"
[ "$(amx --amx on -nr)" = "$off" ] || fail "-nr keeps AMX: $(amx --amx on -nr)"
gguf-inspect --no-tensors --no-kv --mem -c 1024 --amx on "$m" | grep -q '^  CPU repack column: AMX buffer ' || fail "text view"
