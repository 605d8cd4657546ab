# gguf2onnx: every --weights mode, both graphs, and the tokenizer export.
. "$SRC/tests/cli/identity/_identity.inc"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
requant -q m.gguf q4.gguf Q4_0
for w in auto f32 f16 int4 int8; do
    gguf2onnx -q --json --weights $w m.gguf o-$w > o-$w.json
done
gguf2onnx -q --json q4.gguf o-q4 > o-q4.json
gguf2onnx -q --json --graph genai --kv-dtype f16 q4.gguf o-genai > o-genai.json
# the reports carry the run time: drop that line before hashing
for j in o-*.json; do grep -v '"seconds":' $j > $j.t && mv $j.t $j; done
digest o-*.json o-*/*
