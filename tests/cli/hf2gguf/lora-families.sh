# hf2gguf --lora over the other families fixtures/make_hf writes (rank 8,
# alpha 16, every linear layer of the blocks): each output file has the
# SHA-256 of ec562eb's convert_lora_to_gguf.py's (lora-families.stdout.exact),
# for f32 and q8_0. Mixtures of experts (mixtral, qwen2moe, qwen3moe): the
# experts' lora_A/lora_B are stacked per block into 3-D
# ffn_*_exps.weight.lora_a [in, r, n_expert] / .lora_b [r, out, n_expert], as
# torch.stack over the script's LoraTorchTensors; with the base as GGUF
# (--base-gguf) mixtral's output is the same file.
# The table was made as lora-golden.sh's header says (same tools, same
# shims), by running this file with LORA_REF set.
. "$SRC/tests/cli/lib.sh"
for a in mistral qwen2 smollm3 granite olmo2 glm4 gemma3 mixtral qwen2moe qwen3moe; do
    "$BUILD/fixtures/make_hf" --arch "$a" "$a"
    python3 "$SRC/tests/cli/hf2gguf/lora_make.py" "$a" "$a-r8-all" --rank 8 --alpha 16 \
        --targets all
    for t in f32 q8_0; do
        if [ -n "${LORA_REF:-}" ]; then
            "$LORA_REF" "$a" "$a-r8-all" "$t" "$a.$t.gguf" > /dev/null 2>&1
        else
            hf2gguf -q --lora "$a-r8-all" --base "$a" --outtype "$t" -o "$a.$t.gguf"
        fi
        echo "$a $t $(sha256sum < "$a.$t.gguf" | cut -c1-64)"
    done
done
[ -n "${LORA_REF:-}" ] && exit 0
hf2gguf -q --outtype f16 -o mixtral.gguf mixtral
hf2gguf -q --lora mixtral-r8-all --base-gguf mixtral.gguf --outtype q8_0 -o g.gguf
cmp g.gguf mixtral.q8_0.gguf || fail "--base-gguf differs from --base (mixtral)"
# an expert left out: the block never completes (upstream: "Unprocessed experts")
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" mixtral part --targets all --omit experts.3.w2
s=0
hf2gguf --lora part --base mixtral -o out.gguf 2> err || s=$?
[ "$s" = 2 ] || fail "missing expert: exit $s"
grep -q "missing tensor 'model.layers.0.block_sparse_moe.experts.3.w2.weight'" err ||
    fail "missing expert: $(cat err)"
assert_no_file out.gguf
