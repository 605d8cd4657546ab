# A llama GGUF with Mixtral's experts (make_gguf --experts) converts in both
# graphs: the router linear and one com.microsoft MoE node per block, its
# fc1/fc2 expert weights in f32 (F16 input), or QMoE over the Q8_0 blocks
# as they are (-v says so), or with --weights f32 MoE again. (That the
# numbers agree with llama.cpp is tests/interop/onnx-families.test.mjs.)
. "$SRC/tests/cli/lib.sh"
has() { grep -q -a -F "$2" "$1/model.onnx" || fail "$1: no '$2' in model.onnx"; }
"$BUILD/fixtures/make_gguf" --layers 2 --embd 64 --ff 64 --heads 2 --kv-heads 1 --vocab 300 \
    --experts 4 --experts-used 2 m.gguf
"$BUILD/bin/requant" -q m.gguf q.gguf Q8_0
gguf2onnx -q m.gguf std
gguf2onnx -v --graph genai q.gguf genai > log 2>&1
gguf2onnx -v --weights f32 q.gguf qf32 > logf 2>&1
for g in std genai qf32; do
    has $g com.microsoft
    has $g MoE
    has $g model.layers.1.moe.experts.fc1
    has $g model.layers.1.moe.router
done
has genai QMoE
has genai experts.fc2_scales
! grep -q -a QMoE std/model.onnx qf32/model.onnx || fail "QMoE without Q4_0/Q8_0 experts"
grep -q 'blk.1.ffn_gate_exps.weight.*Q8_0.*QMoE bits=8 block=32 (exact Q8_0 repack)' log || fail "-v: no QMoE line"
grep -q 'blk.1.ffn_gate_exps.weight.*Q8_0.*MoE experts f32 (dequantized)' logf || fail "-v: no MoE line"
# fc1 [4, 2*64, 64] and fc2 [4, 64, 64] f32 per block in model.onnx.data
[ "$(wc -c < std/model.onnx.data)" -gt $((2 * 4 * 3 * 64 * 64 * 4)) ] || fail "expert weights missing"
