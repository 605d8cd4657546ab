# --mem: bad knobs are usage errors with one clear line (exit 2); an
# architecture whose KV layout is unknown prints "unknown", not a number
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
bad() { # expected-message args...
    gguf-inspect --mem "${@:2}" "$m" >out 2>err && fail "accepted: ${*:2}"
    [ $? = 2 ] || fail "exit for ${*:2}"
    grep -q "$1" err || fail "${*:2}: $(cat err)"
    [ ! -s out ] || fail "${*:2}: output on stdout"
}
bad "n-gpu-layers takes a whole number" -ngl -1
bad "needs a proportion above 0" -ts 0,0
bad "cache-type-k takes f32, f16" -ctk q5_K
bad "cache-type-v takes" -ctv f17
bad "flash-attn takes on, off or auto" -fa maybe
bad "amx takes on, off or auto" --amx yes
bad "ubatch-size takes" -ub 0
bad "fit takes DEVICE=SIZE" --fit NPU=1G
# rows of 48 elements are not whole q8_0 blocks: the model cannot take it
"$BUILD/fixtures/make_gguf" --layers 1 --embd 96 --ff 96 --heads 2 --kv-heads 1 --vocab 64 odd.gguf
gguf-inspect --mem -ctk q8_0 odd.gguf >out 2>err && fail "q8_0 on 48-element rows accepted"
grep -q "odd.gguf: --mem: cache types Q8_0/F16 need K and V rows (48 and 48 elements)" err || fail "$(cat err)"
# an unknown architecture: the KV cache, compute and totals are "unknown"
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 x.gguf
sed 's/llama\.\([a-z_.]*\)/zzzzz.\1/g; s/llama/zzzzz/' x.gguf >y.gguf 2>/dev/null
gguf-inspect --key general.architecture y.gguf | grep -qx zzzzz || fail "arch rename"
gguf-inspect --no-tensors --no-kv --mem -c 512 y.gguf >out.txt || fail "exit $?"
grep -q 'kv cache *unknown for zzzzz' out.txt && grep -q '^  CPU .* unknown  *unknown  .* unknown$' out.txt ||
    fail "$(cat out.txt)"
[ "$(gguf-inspect --json --mem -c 512 y.gguf | jq -c '.memory | [.kv_layout, .kv_cache_bytes, .total_bytes]')" = \
    '["unknown",null,null]' ] || fail "json unknown"
# a lone safetensors file has no config to plan from (a directory is
# planned as the GGUF hf2gguf writes: mem-hf.sh)
gguf-inspect --mem "$SHARED/fixtures/hf-tiny-llama-bf16/model.safetensors" >out 2>err &&
    fail "a lone safetensors file accepted"
[ ! -s out ] && grep -q 'needs a GGUF model or a Hugging Face directory, not a lone safetensors' err ||
    fail "$(cat err)"
