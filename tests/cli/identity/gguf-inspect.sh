# gguf-inspect: --json and the text views of a float and a quantized model
# (--mem with --amx off: the pinned plan is that of a CPU without AMX).
. "$SRC/tests/cli/identity/_identity.inc"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
requant -q m.gguf q.gguf Q4_K_M
"$BUILD/fixtures/make_hf" --arch qwen3 --seed 5 hf
for f in m.gguf q.gguf hf; do
    gguf-inspect --json $f > $f.json
    gguf-inspect --full $f > $f.txt
    gguf-inspect --layers --mem 4096 --kv-type q8_0 --amx off $f > $f.layers.txt 2>&1 || true
done
digest *.json *.txt
