# hf2gguf --lora writes the bytes of llama.cpp ec562eb's convert_lora_to_gguf.py:
# for PEFT adapters made here by lora_make.py (ranks 4 and 16; targets q/k/v/o
# and all linear layers; lora_alpha = r and != r; f32, f16 and bf16 adapter
# data) over fixtures/make_hf bases (llama with its Q/K permutation, qwen3,
# phi3's fused qkv/gate_up, gemma2), each --outtype's whole output file has
# the SHA-256 of the script's (lora-golden.stdout.exact). With a base GGUF
# (--base-gguf) the output is the same file as with --base DIR. An
# adapter_model.bin (torch.save zip; the script's torch.load path, state dict
# order) converts too.
#
# How the table was made (outside the repository, nothing of it kept here):
# llama.cpp at ec562eb (git archive of github:Indras-Mirror/llama.cpp-mtp,
# convert_lora_to_gguf.py, convert_hf_to_gguf.py, gguf-py) run by Debian
# bookworm's /usr/bin/python3 with python3-torch 1.13 and python3-numpy, with
# PYTHONPATH=/work/pyshim:REF:REF/gguf-py where /work/pyshim holds three
# stand-ins for packages Debian lacks: transformers (AutoConfig raises, so
# the script reads config.json as written), safetensors.torch.load_file
# (header JSON, tensors in data-offset order as safetensors >= 0.5.3's
# load_file, numpy -> torch) and a no-op tqdm; a runner adds torch.float8_*
# stand-ins (only named in convert_hf_to_gguf.py's dtype tables). Then:
#   LORA_REF=ref.sh SRC=. BUILD=build bash tests/cli/hf2gguf/lora-golden.sh
# in an empty directory, where ref.sh BASE ADAPTER TYPE OUT runs
#   python3 run_lora.py REF/convert_lora_to_gguf.py --base BASE \
#     --outtype TYPE --outfile OUT ADAPTER
. "$SRC/tests/cli/lib.sh"
mk="$SRC/tests/cli/hf2gguf/lora_make.py"
"$BUILD/fixtures/make_hf" --arch llama llama
"$BUILD/fixtures/make_hf" --arch qwen3 --head-dim 32 qwen3
"$BUILD/fixtures/make_hf" --arch phi3 phi3
"$BUILD/fixtures/make_hf" --arch gemma2 gemma2
python3 "$mk" llama llama-r4-attn --rank 4
python3 "$mk" llama llama-r16-all --rank 16 --alpha 32 --targets all --seed 2
python3 "$mk" qwen3 qwen3-r4-attn-bf16 --rank 4 --dtype bf16 --seed 3
python3 "$mk" qwen3 qwen3-r16-all-f16 --rank 16 --alpha 8 --targets all --dtype f16 --seed 4
python3 "$mk" phi3 phi3-r4-all --rank 4 --alpha 16 --targets all --seed 5
python3 "$mk" gemma2 gemma2-r16-attn --rank 16 --seed 6
python3 "$mk" llama llama-bin-r16-all-bf16 --rank 16 --alpha 32 --targets all --dtype bf16 \
    --seed 2 --bin 1
for a in llama-r4-attn llama-r16-all qwen3-r4-attn-bf16 qwen3-r16-all-f16 phi3-r4-all \
    gemma2-r16-attn llama-bin-r16-all-bf16; do
    base=${a%%-*}
    for t in f32 f16 bf16 q8_0; do
        if [ -n "${LORA_REF:-}" ]; then
            "$LORA_REF" "$base" "$a" "$t" "$a.$t.gguf" > /dev/null 2>&1
        else
            hf2gguf -q --lora "$a" --base "$base" --outtype "$t" -o "$a.$t.gguf"
        fi
        echo "$a $t $(sha256sum < "$a.$t.gguf" | cut -c1-64)"
    done
done
[ -n "${LORA_REF:-}" ] && exit 0
# the base as GGUF: the same bytes
hf2gguf -q --outtype f16 -o llama.gguf llama
hf2gguf -q --lora llama-r16-all --base-gguf llama.gguf --outtype q8_0 -o g.gguf
cmp g.gguf llama-r16-all.q8_0.gguf || fail "--base-gguf differs from --base"
# the default name, inside the adapter directory
hf2gguf -q --lora llama-r4-attn --base llama
[ -f llama-r4-attn/Llama-R4-Attn-F32-LoRA.gguf ] || fail "default name: $(ls llama-r4-attn)"
cmp llama-r4-attn/Llama-R4-Attn-F32-LoRA.gguf llama-r4-attn.f32.gguf || fail "default outtype"
# --outtype auto (upstream's fails on adapters: LoraTorchTensor has no dim()):
# bf16 for a bf16 adapter, else f16
hf2gguf -q --lora qwen3-r4-attn-bf16 --base qwen3 --outtype auto -o auto.gguf
cmp auto.gguf qwen3-r4-attn-bf16.bf16.gguf || fail "auto is not bf16 for a bf16 adapter"
hf2gguf -q --lora llama-r4-attn --base llama --outtype auto -o auto2.gguf
cmp auto2.gguf llama-r4-attn.f16.gguf || fail "auto is not f16 for an f32 adapter"
# the base's config.json is an input: never the output, even with -f
s=0
hf2gguf -q -f --lora llama-r4-attn --base llama -o llama/config.json 2> err || s=$?
[ "$s" = 2 ] && grep -q 'same file as input' err || fail "output over the base config: $s $(cat err)"
