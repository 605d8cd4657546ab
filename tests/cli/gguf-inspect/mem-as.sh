# --as PRESET: the plan for the model requant PRESET would write, from the
# F16 model's header (llama-quantize's mixture, requant's layout): every
# device figure equals the plan of the real requant output, for a single
# file and a split set, plain and MoE; the data is never read (a sparse
# header works); an unknown preset is refused. A Hugging Face directory:
# mem-hf.sh.
. "$SRC/tests/cli/lib.sh"
mk="$BUILD/fixtures/make_gguf"
"$mk" --layers 2 --embd 256 --ff 512 m.gguf
"$mk" --layers 2 --embd 256 --ff 256 --experts 4 --experts-used 2 moe.gguf
"$mk" --layers 2 --embd 256 --ff 512 --split 3 s.gguf
devices() { gguf-inspect --json --no-tensors --mem -c 1024 "$@" | jq -c '.memory.devices'; }
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
# header only: a sparse 405B model plans as Q4_K_M without its data (-nr:
# the mapped range alone, about the size of a Q4_K_M file, ~243 GB)
"$mk" --preset llama-405b --sparse big.gguf
gguf-inspect --json --no-tensors --as Q4_K_M -nr -c 8192 big.gguf >big.json || fail "405B --as"
w=$(jq '.memory.weights_bytes' big.json)
[ "$w" -gt $((200 * 1024 * 1024 * 1024)) ] && [ "$w" -lt $((260 * 1024 * 1024 * 1024)) ] ||
    fail "405B Q4_K_M weights $w"
gguf-inspect --as Q9_X m.gguf 2>err.txt && fail "--as Q9_X accepted"
[ $? = 2 ] && grep -q "^gguf-inspect: --as takes a requant preset" err.txt || fail "$(cat err.txt)"
