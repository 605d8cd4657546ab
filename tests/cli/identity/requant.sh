# requant: every preset of --list (IQ types with an imatrix), the report,
# split output and the HTML page's data.
# With --imatrix, Q4_K_M, IQ2_XS and Q8_0 were checked equal to llama-quantize
# ec562eb (the imatrix count keys are u32 there, as here).
. "$SRC/tests/cli/identity/_identity.inc"
"$BUILD/fixtures/make_hf" --arch llama --seed 21 --embd 256 --ff 512 --heads 4 --kv-heads 2 m
hf2gguf -q --outtype f16 m -o m.gguf
"$BUILD/fixtures/tensor_hashes" m.gguf > m.tsv
python3 "$SRC/tests/cli/requant/mkimatrix.py" dat im.dat < m.tsv
for p in $(requant --list | awk 'NR > 1 { print $1 }'); do
    requant -q --imatrix im.dat --report $p.json m.gguf $p.gguf $p
done
"$BUILD/fixtures/make_gguf" --preset tiny --split 3 s.gguf
requant -q --keep-split s-00001-of-00003.gguf ks.gguf Q4_0
requant -q s-00002-of-00003.gguf merged.gguf Q4_0
rm s-0000?-of-00003.gguf
requant -q --pure --output-tensor-type q6_k --tensor-type 'ffn_down=q5_k' m.gguf pure.gguf Q4_K_S
requant -q --override-kv 'general.name=str:renamed' m.gguf kv.gguf Q8_0
digest *.gguf *.json
