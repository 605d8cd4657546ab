# requant --lora ADAPTER[:SCALE]... BASE OUT TYPE merges PEFT LoRA adapters
# (converted by hf2gguf --lora) into the base as it quantizes. Each line of
# lora-merge.stdout.exact is the SHA-256 of a whole output file, made by
# llama.cpp ec562eb's tools: mode e is llama-export-lora alone (TYPE keeps
# every tensor's type: F16 over an F16 base, F32 over an F32 base), mode q is
# llama-export-lora then llama-quantize OPTS TYPE. The cases cover the three
# ways ggml computes the rank-r products (r = 16, 64: the llamafile sgemm;
# r = 4: the dot product's tail; r = 72: its 64-wide body and tail), f32,
# f16 and bf16 adapter data, an F32 base, a Q8_0 base, a user scale, two
# adapters at once, an embedding adapter (token_embd), fused qkv (phi3),
# experts stacked into 3-D factors (mixtral, qwen3moe),
# and llama-quantize's options (--tensor-type, --imatrix).
#
# How the table was made (outside the repository, nothing of it kept here):
# llama-export-lora and llama-quantize built at ec562eb (git archive of
# github:Indras-Mirror/llama.cpp-mtp; cmake -DCMAKE_BUILD_TYPE=Release, the
# default GGML_NATIVE=ON on an x86-64 AVX-512 CPU, GGML_LLAMAFILE=ON), then
#   MERGE_REF=ref.sh SRC=. BUILD=build bash tests/cli/requant/lora-merge.sh
# in an empty directory, where ref.sh MODE BASE TYPE OPTS OUT ADAPTER[:S]...
# runs llama-export-lora -m BASE --lora A (--lora-scaled A:S) -o TMP and,
# in mode q, llama-quantize OPTS TMP OUT TYPE.
. "$SRC/tests/cli/lib.sh"
mk="$SRC/tests/cli/hf2gguf/lora_make.py"
shape="--embd 256 --ff 512 --heads 8 --kv-heads 4 --head-dim 32"
"$BUILD/fixtures/make_hf" --arch llama $shape llama > /dev/null
"$BUILD/fixtures/make_hf" --arch qwen3 $shape qwen3 > /dev/null
"$BUILD/fixtures/make_hf" --arch phi3 phi3 > /dev/null
"$BUILD/fixtures/make_hf" --arch mixtral mixtral > /dev/null
"$BUILD/fixtures/make_hf" --arch qwen3moe qwen3moe > /dev/null
hf2gguf -q --outtype f16 -o llama.f16.gguf llama
hf2gguf -q --outtype f32 -o llama.f32.gguf llama
hf2gguf -q --outtype q8_0 -o llama.q8_0.gguf llama
hf2gguf -q --pre qwen2 --outtype f16 -o qwen3.f16.gguf qwen3
hf2gguf -q --outtype f16 -o phi3.f16.gguf phi3
hf2gguf -q --outtype f16 -o mixtral.f16.gguf mixtral
hf2gguf -q --pre qwen2 --outtype f16 -o qwen3moe.f16.gguf qwen3moe
adapter() { # NAME BASE_DIR OUTTYPE lora_make options...
    local name=$1 base=$2 t=$3
    shift 3
    python3 "$mk" "$base" "$name" "$@"
    hf2gguf -q --lora "$name" --base "$base" --outtype "$t" -o "$name.gguf"
}
adapter l-r4-attn llama f32 --rank 4
adapter l-r4-all llama f16 --rank 4 --targets all --seed 7
adapter l-r16-all llama f32 --rank 16 --alpha 32 --targets all --seed 2
adapter l-r64-attn llama f16 --rank 64 --alpha 16 --seed 4 --dtype f16
adapter l-r72-all llama bf16 --rank 72 --targets all --seed 5 --dtype bf16
adapter l-embed-r4 llama f32 --rank 4 --embed 1 --seed 6
adapter q-r16-all qwen3 f16 --rank 16 --alpha 8 --targets all --seed 8
adapter p-r4-all phi3 f32 --rank 4 --alpha 16 --targets all --seed 9
adapter x-r16-all mixtral f32 --rank 16 --targets all --seed 10
adapter m-r8-all qwen3moe f16 --rank 8 --alpha 16 --targets all --seed 11
merge() { # NAME MODE BASE TYPE OPTS ADAPTER[:SCALE]...
    local name=$1 mode=$2 base=$3 t=$4 opts=$5
    shift 5
    if [ -n "${MERGE_REF:-}" ]; then
        "$MERGE_REF" "$mode" "$base" "$t" "$opts" "$name.gguf" "$@"
    else
        local la=()
        for a in "$@"; do la+=(--lora "$a"); done
        requant -q $opts "${la[@]}" "$base" "$name.gguf" "$t"
    fi
    echo "$name $mode $t $(sha256sum < "$name.gguf" | cut -c1-64)"
}
merge m-r4-f16 e llama.f16.gguf F16 "" l-r4-attn.gguf
merge m-r16-f16 e llama.f16.gguf F16 "" l-r16-all.gguf
merge m-r16-q4km q llama.f16.gguf Q4_K_M "" l-r16-all.gguf
merge m-r16-q8 q llama.f16.gguf Q8_0 "" l-r16-all.gguf
merge m-r16-q40-tt q llama.f16.gguf Q4_0 "--tensor-type attn_v=q8_0 --output-tensor-type q6_k" l-r16-all.gguf
merge m-r16-f32base e llama.f32.gguf F32 "" l-r16-all.gguf
merge m-r16-f32base-f16 q llama.f32.gguf F16 "" l-r16-all.gguf
merge m-r16-f32 q llama.f16.gguf F32 "" l-r16-all.gguf
merge m-r16-q8base q llama.q8_0.gguf Q8_0 "" l-r16-all.gguf
merge m-r64-scaled e llama.f16.gguf F16 "" l-r64-attn.gguf:0.5
merge m-r72-f16 e llama.f16.gguf F16 "" l-r72-all.gguf
merge m-r72-q6k q llama.f16.gguf Q6_K "" l-r72-all.gguf
merge m-two e llama.f16.gguf F16 "" l-r4-all.gguf:2 l-r16-all.gguf
merge m-two-q5km q llama.f16.gguf Q5_K_M "" l-r16-all.gguf l-r4-all.gguf:-1
merge m-embed e llama.f16.gguf F16 "" l-embed-r4.gguf
merge m-qwen3 e qwen3.f16.gguf F16 "" q-r16-all.gguf
merge m-qwen3-q4km q qwen3.f16.gguf Q4_K_M "" q-r16-all.gguf
merge m-phi3 e phi3.f16.gguf F16 "" p-r4-all.gguf
"$BUILD/fixtures/tensor_hashes" llama.f16.gguf > llama.tsv
python3 "$SRC/tests/cli/requant/mkimatrix.py" gguf im.gguf < llama.tsv
merge m-r16-iq4xs-imatrix q llama.f16.gguf IQ4_XS "--imatrix im.gguf" l-r16-all.gguf
merge m-mixtral e mixtral.f16.gguf F16 "" x-r16-all.gguf
merge m-qwen3moe e qwen3moe.f16.gguf F16 "" m-r8-all.gguf
merge m-mixtral-q8 q mixtral.f16.gguf Q8_0 "" x-r16-all.gguf
[ -n "${MERGE_REF:-}" ] && exit 0
# the bytes do not depend on the thread count
requant -q -j 1 --lora l-r16-all.gguf llama.f16.gguf j1.gguf Q4_K_M
cmp j1.gguf m-r16-q4km.gguf || fail "-j 1 differs"
requant -q -j 3 --lora l-r4-all.gguf:2 --lora l-r16-all.gguf llama.f16.gguf j3.gguf F16
cmp j3.gguf m-two.gguf || fail "-j 3 differs"
# a base from a pipe, the merged model to a pipe, and zstd in and out
cat llama.f16.gguf | requant -q --lora l-r16-all.gguf - - F16 > pipe.gguf
cmp pipe.gguf m-r16-f16.gguf || fail "stdin to stdout"
zstd -q llama.f16.gguf -o base.gguf.zst
requant -q --zstd --lora l-r16-all.gguf base.gguf.zst z.gguf.zst Q4_K_M
zstd -q -d z.gguf.zst -o z.gguf
cmp z.gguf m-r16-q4km.gguf || fail "zstd in and out"
# every width of the kernels gives the same bytes: scalar, AVX2 (8 columns
# at a time), AVX-512 (16, the default here)
for isa in ref avx2; do
    GGUFKIT_SIMD=$isa requant -q --lora l-r72-all.gguf llama.f16.gguf $isa-72.gguf F16
    cmp $isa-72.gguf m-r72-f16.gguf || fail "$isa: rank 72"
    GGUFKIT_SIMD=$isa requant -q --lora l-r4-all.gguf:2 --lora l-r16-all.gguf llama.f16.gguf \
        $isa-two.gguf F16
    cmp $isa-two.gguf m-two.gguf || fail "$isa: two adapters"
    GGUFKIT_SIMD=$isa requant -q --lora l-embed-r4.gguf llama.f16.gguf $isa-embed.gguf F16
    cmp $isa-embed.gguf m-embed.gguf || fail "$isa: token_embd"
    GGUFKIT_SIMD=$isa requant -q --lora m-r8-all.gguf qwen3moe.f16.gguf $isa-moe.gguf F16
    cmp $isa-moe.gguf m-qwen3moe.gguf || fail "$isa: experts"
done
# gguf-verify diff BASE MERGED shows what the adapter changed: the attention
# weights of an attention-only adapter, and nothing else
gguf-verify diff --json llama.f16.gguf m-r4-f16.gguf > diff.json
python3 - diff.json << 'PY' || fail "diff of the merge: $(head -c 300 diff.json)"
import json, re, sys
d = json.load(open(sys.argv[1]))
changed = sorted(t["name"] for t in d["tensors"] if t["metrics"]["rmse"] > 0)
want = sorted(f"blk.{i}.attn_{m}.weight" for i in range(2) for m in ("q", "k", "v", "output"))
assert changed == want, changed
assert all(t["status"] == "compared" for t in d["tensors"]) and len(d["tensors"]) == 21
PY
gguf-verify diff llama.f16.gguf m-r4-f16.gguf > diff.txt
grep -q '^  blk.0.attn_q.weight  *F16  *F16  *[1-9]' diff.txt || fail "text diff: $(cat diff.txt)"
