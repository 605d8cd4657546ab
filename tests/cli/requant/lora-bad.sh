# requant --lora refuses, with exit 2, a message naming the file, and no
# output: an adapter whose shapes do not fit the base, one adapting a tensor
# the base has not (unknown target module), rank 0, alpha NaN, an adapter
# for another architecture, lora_a without lora_b, a quantized adapter, a
# model given as an adapter, an adapter given as the base, adapters that
# adapt different tensors (as llama-export-lora), a split base, a missing
# adapter, and an output naming an adapter (never overwrite an input).
. "$SRC/tests/cli/lib.sh"
mk="$SRC/tests/cli/hf2gguf/lora_make.py"
mkg="$SRC/tests/cli/requant/mklora_gguf.py"
"$BUILD/fixtures/make_hf" --arch llama --embd 256 --ff 512 --heads 8 --kv-heads 4 --head-dim 32 \
    llama > /dev/null
"$BUILD/fixtures/make_hf" --arch llama small > /dev/null
"$BUILD/fixtures/make_hf" --arch mixtral mixtral > /dev/null
hf2gguf -q --outtype f16 -o base.gguf llama
python3 "$mk" llama r4 --rank 4
python3 "$mk" llama r4all --rank 4 --targets all
python3 "$mk" small small-r4 --rank 4
python3 "$mk" mixtral mixtral-r4 --rank 4 --targets all
hf2gguf -q --lora r4 --base llama -o r4.gguf
hf2gguf -q --lora r4all --base llama -o r4all.gguf
hf2gguf -q --lora r4 --base llama --outtype q8_0 -o r4q.gguf
hf2gguf -q --lora small-r4 --base small -o small-r4.gguf
hf2gguf -q --lora mixtral-r4 --base mixtral -o mixtral-r4.gguf
gguf-edit -q --set general.architecture=str:qwen2 r4.gguf qwen2.gguf
gguf-edit -q -f --drop-tensor 'blk\.1\.attn_q\.weight\.lora_b' r4.gguf nob.gguf
python3 "$mkg" nan.gguf nan blk.0.attn_q.weight.lora_a:256x4 blk.0.attn_q.weight.lora_b:4x256
python3 "$mkg" r0.gguf 8 blk.0.attn_q.weight.lora_a:256x0 blk.0.attn_q.weight.lora_b:0x256
gguf-edit -q --split-max-tensors 8 base.gguf split
refused() { # WHAT GREP_PATTERN requant-arguments...
    local what=$1 pat=$2 s=0
    shift 2
    requant "$@" 2> err || s=$?
    [ "$s" = 2 ] || fail "$what: exit $s: $(cat err)"
    grep -q -- "$pat" err || fail "$what: $(cat err)"
    assert_no_file out.gguf
}
refused "shapes" "small-r4.gguf: 'blk.0.attn_k.weight': lora_a \[64, 4, 1\] and lora_b \[4, 32, 1\] do not fit the base tensor \[256, 128, 1\]" \
    --lora small-r4.gguf base.gguf out.gguf F16
refused "unknown target" "mixtral-r4.gguf: tensor 'blk.0.ffn_gate_exps.weight.lora_a' adapts a tensor the base has not" \
    --lora mixtral-r4.gguf base.gguf out.gguf Q8_0
refused "rank 0" "r0.gguf: tensor 'blk.0.attn_q.weight.lora_a': dimension 1 is 0" \
    --lora r0.gguf base.gguf out.gguf F16
refused "alpha NaN" "nan.gguf: adapter.lora.alpha is not a finite number" \
    --lora nan.gguf base.gguf out.gguf F16
refused "architecture" "qwen2.gguf: an adapter for architecture 'qwen2', the base is 'llama'" \
    --lora qwen2.gguf base.gguf out.gguf F16
refused "lora_a alone" "nob.gguf: 'blk.1.attn_q.weight' has lora_a without lora_b" \
    --lora nob.gguf base.gguf out.gguf F16
refused "quantized" "r4q.gguf: tensor '.*' is Q8_0: quantized LoRA adapters cannot be merged" \
    --lora r4q.gguf base.gguf out.gguf F16
refused "model as adapter" "base.gguf: not a LoRA adapter (general.type 'model'" \
    --lora base.gguf base.gguf out.gguf F16
refused "adapter as base" "r4.gguf: is a LoRA adapter, not a base model" \
    --lora r4all.gguf r4.gguf out.gguf F16
refused "different tensors" "the adapters do not adapt the same tensors" \
    --lora r4.gguf --lora r4all.gguf base.gguf out.gguf F16
refused "split base" "a split model cannot take --lora" \
    --lora r4.gguf split-00001-of-00003.gguf out.gguf F16
refused "missing" "nothere.gguf: cannot open" --lora nothere.gguf base.gguf out.gguf F16
refused "keep-split" "cannot be combined with --keep-split" --keep-split --lora r4.gguf \
    split-00001-of-00003.gguf out.gguf F16
cp r4.gguf keep.gguf
s=0
requant -f --lora r4.gguf base.gguf r4.gguf F16 2> err || s=$?
[ "$s" = 2 ] && grep -q "same file as input" err || fail "adapter overwritten: $s $(cat err)"
cmp r4.gguf keep.gguf || fail "the adapter changed"
