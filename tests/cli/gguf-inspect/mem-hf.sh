# --mem on a Hugging Face directory plans the GGUF hf2gguf would write, from
# the header `hf2gguf --header-only -o -` streams to gguf-inspect (no weight
# is read or converted): every device figure (weights, repack, KV cache,
# compute, output, total) equals the plan of hf2gguf's real output, and
# --as Q4_K_M that of hf2gguf --outtype f16 then requant Q4_K_M, on the CPU
# and with 2 of 4 layers offloaded: dense llama, gemma3 (sliding window)
# and a bf16 qwen3 (hf2gguf's default outtype follows the weights).
. "$SRC/tests/cli/lib.sh"
# the plan's devices, or a line naming the failure (never equal to a plan)
devices() {
    local j
    j=$(gguf-inspect --json --no-tensors --mem -c 1024 "$@") && jq -ce '.memory.devices' <<<"$j" ||
        echo "failed: $*"
}
for a in llama gemma3 qwen3; do
    "$BUILD/fixtures/make_hf" --arch $a --dtype bf16 --layers 4 --embd 256 --ff 512 --heads 4 \
        --kv-heads 2 --vocab 1024 "hf-$a" >/dev/null
    hf2gguf -q --pre qwen2 "hf-$a" -o "$a-auto.gguf" || fail "hf2gguf $a"
    [ "$(devices "hf-$a")" = "$(devices "$a-auto.gguf")" ] || fail "--mem hf-$a"
    hf2gguf -q --pre qwen2 --outtype f16 "hf-$a" -o "$a-f16.gguf" || fail "hf2gguf f16 $a"
    requant -q "$a-f16.gguf" "$a-q.gguf" Q4_K_M || fail "requant $a"
    want=$(devices "$a-q.gguf") got=$(devices --as Q4_K_M "hf-$a")
    [ "$got" = "$want" ] || fail "--as Q4_K_M hf-$a: $got, requant output: $want"
    [ "$(devices -ngl 2 --as Q4_K_M "hf-$a")" = "$(devices -ngl 2 "$a-q.gguf")" ] ||
        fail "-ngl 2 --as Q4_K_M hf-$a"
    # and the planned file is the size hf2gguf writes
    [ "$(gguf-inspect --json --no-tensors --mem "hf-$a" | jq .summary.file_size)" = \
        "$(stat -c %s "$a-auto.gguf")" ] || fail "file size hf-$a"
done
# Q4_K_M is not the F16 plan: --as took effect on the directory
[ "$(devices --as Q4_K_M hf-llama)" != "$(devices llama-f16.gguf)" ] || fail "--as changed nothing"
# the text view names the directory and the preset
gguf-inspect --no-kv --no-tensors --as Q4_K_M hf-llama >out.txt || fail "text view exit $?"
grep -q '^file  *hf-llama$' out.txt && grep -q 'weights as requant Q4_K_M' out.txt ||
    fail "$(cat out.txt)"
# hf2gguf --header-only alone: a GGUF stream of the same keys and tensors,
# without their data
hf2gguf -q --header-only -o - hf-llama >h.gguf || fail "--header-only exit $?"
[ "$(stat -c %s h.gguf)" -lt 65536 ] || fail "--header-only wrote $(stat -c %s h.gguf) bytes"
[ "$(cat h.gguf | gguf-inspect --json - | jq -c '[.tensors[] | [.name, .type, .shape]]')" = \
    "$(gguf-inspect --json llama-auto.gguf | jq -c '[.tensors[] | [.name, .type, .shape]]')" ] ||
    fail "--header-only tensors"
hf2gguf --header-only hf-llama 2>err.txt && fail "--header-only without -o accepted"
grep -q -- '--header-only needs -o' err.txt || fail "$(cat err.txt)"
# no weight is read: a NaN weight that fails a real --strict conversion
# goes unseen by --header-only (and so by gguf-inspect --mem)
"$BUILD/fixtures/make_hf" --arch llama --layers 2 --embd 128 --ff 256 --heads 2 --kv-heads 1 \
    --vocab 512 --nan model.layers.1.mlp.up_proj.weight nan >/dev/null
hf2gguf -q --strict nan -o nan.gguf 2>/dev/null && fail "--strict converted a NaN weight"
hf2gguf -q --strict --header-only -o - nan >/dev/null 2>err.txt || fail "--header-only read a weight: $(cat err.txt)"
gguf-inspect --mem -c 512 nan >/dev/null 2>err.txt && [ ! -s err.txt ] || fail "--mem nan: $(cat err.txt)"
