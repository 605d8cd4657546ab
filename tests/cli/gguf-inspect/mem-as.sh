# --as PRESET: the plan for the model requant PRESET would write, from the
# F16 model's header (llama-quantize's mixture, requant's layout): every
# device figure equals the plan of the real requant output, for a single
# file and a split set, plain and MoE; the data is never read (a sparse
# header works); an unknown preset is refused. On a Hugging Face directory
# the plan is that of the GGUF hf2gguf writes (its header is built, no
# tensor is converted): --mem equals the plan of hf2gguf's output and
# --as PRESET that of hf2gguf --outtype f16 then requant PRESET.
. "$SRC/tests/cli/lib.sh"
mk="$BUILD/fixtures/make_gguf"
"$mk" --layers 2 --embd 256 --ff 512 m.gguf
"$mk" --layers 2 --embd 256 --ff 256 --experts 4 --experts-used 2 moe.gguf
"$mk" --layers 2 --embd 256 --ff 512 --split 3 s.gguf
# the plan's devices, or a line naming the failure (never equal to a plan)
devices() {
    local j
    j=$(gguf-inspect --json --no-tensors --mem -c 1024 "$@") && jq -ce '.memory.devices' <<<"$j" ||
        echo "failed: $*"
}
for p in Q4_K_M Q4_0 Q6_K IQ4_NL Q2_K; do
    for m in m.gguf moe.gguf; do
        requant -q "$m" "out-$p-$m" "$p" || fail "requant $p $m"
        want=$(devices "out-$p-$m") got=$(devices --as "$p" "$m")
        [ "$got" = "$want" ] || fail "--as $p $m: $got, requant output: $want"
        # and with layers offloaded (the mapped range and the GPU's share)
        want=$(devices -ngl 2 "out-$p-$m") got=$(devices -ngl 2 --as "$p" "$m")
        [ "$got" = "$want" ] || fail "-ngl 2 --as $p $m: $got, requant output: $want"
    done
done
# a preset that needs an importance matrix plans as requant writes it with
# one (IQ3_XXS: attn_v stays IQ3_XXS, where it would be IQ3_S without)
"$BUILD/fixtures/tensor_hashes" m.gguf >m.tsv
python3 "$SRC/tests/cli/requant/mkimatrix.py" dat im.dat <m.tsv
requant -q --imatrix im.dat m.gguf out-iq3.gguf IQ3_XXS || fail "requant IQ3_XXS"
[ "$(devices --as IQ3_XXS m.gguf)" = "$(devices out-iq3.gguf)" ] || fail "--as IQ3_XXS"
# a split set plans as requant's one output file
requant -q s-00002-of-00003.gguf s-q.gguf Q4_K_M || fail "requant split"
[ "$(devices --as Q4_K_M s-00001-of-00003.gguf)" = "$(devices s-q.gguf)" ] || fail "split set"
# Q4_K_M differs from F16: the figure is the preset's, not the input's
[ "$(devices --as Q4_K_M m.gguf)" != "$(devices m.gguf)" ] || fail "--as changed nothing"
# the preset is reported; --as alone implies --mem
[ "$(gguf-inspect --json --no-tensors --as q4_k_m m.gguf | jq -r .memory.params.as)" = Q4_K_M ] ||
    fail "params.as"
gguf-inspect --no-kv --no-tensors --as Q4_K_M m.gguf | grep -q 'weights as requant Q4_K_M' ||
    fail "text view"
# a Hugging Face directory: dense llama, gemma3 (sliding window) and a
# bf16 qwen3 (hf2gguf's default outtype follows the weights)
for a in llama gemma3 qwen3; do
    "$BUILD/fixtures/make_hf" --arch $a --dtype bf16 --layers 4 --embd 256 --ff 512 --heads 4 \
        --kv-heads 2 --vocab 1024 "hf-$a" >/dev/null
    hf2gguf -q --pre qwen2 "hf-$a" -o "$a-auto.gguf" || fail "hf2gguf $a"
    [ "$(devices "hf-$a")" = "$(devices "$a-auto.gguf")" ] || fail "--mem hf-$a"
    hf2gguf -q --pre qwen2 --outtype f16 "hf-$a" -o "$a-f16.gguf" || fail "hf2gguf f16 $a"
    requant -q "$a-f16.gguf" "$a-q.gguf" Q4_K_M || fail "requant $a"
    [ "$(devices --as Q4_K_M "hf-$a")" = "$(devices "$a-q.gguf")" ] || fail "--as Q4_K_M hf-$a"
    [ "$(devices -ngl 2 --as Q4_K_M "hf-$a")" = "$(devices -ngl 2 "$a-q.gguf")" ] ||
        fail "-ngl 2 --as Q4_K_M hf-$a"
done
# the directory is still checked as hf2gguf checks it, and a lone
# safetensors file has no config to plan from
sed -i 's/"num_hidden_layers": 4/"num_hidden_layers": 4.5/' hf-llama/config.json
gguf-inspect --mem hf-llama 2>err.txt && fail "a fractional layer count accepted"
grep -q "num_hidden_layers' = 4.5 is not a whole number" err.txt || fail "$(cat err.txt)"
gguf-inspect --mem hf-qwen3/model.safetensors 2>err.txt && fail "--mem on a safetensors file"
[ $? = 2 ] && grep -q "not a lone safetensors file" err.txt || fail "$(cat err.txt)"
# header only: a sparse 405B model plans as Q4_K_M without its data (-nr:
# the mapped range alone, about the size of a Q4_K_M file, ~243 GB)
"$mk" --preset llama-405b --sparse big.gguf
gguf-inspect --json --no-tensors --as Q4_K_M -nr -c 8192 big.gguf >big.json || fail "405B --as"
w=$(jq '.memory.weights_bytes' big.json)
[ "$w" -gt $((200 * 1024 * 1024 * 1024)) ] && [ "$w" -lt $((260 * 1024 * 1024 * 1024)) ] ||
    fail "405B Q4_K_M weights $w"
gguf-inspect --as Q9_X m.gguf 2>err.txt && fail "--as Q9_X accepted"
[ $? = 2 ] && grep -q "^gguf-inspect: --as takes a requant preset" err.txt || fail "$(cat err.txt)"
