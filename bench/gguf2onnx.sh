#!/bin/sh
# bench/gguf2onnx.sh -- gguf2onnx conversion throughput next to `cp` of the
# same GGUF, with peak RSS (bounded: weights stream row by row into
# model.onnx.data), for a generated llama model as Q4_0 (exact MatMulNBits
# repack) and F16 (dequantized to f32); then, for information, ONNX Runtime
# decode tokens/s of the produced models next to llama.cpp on the same GGUF
# (onnxruntime-node and node-llama-cpp from tests/interop/node_modules).
#   BUILD=build bench/gguf2onnx.sh [LAYERS EMBD FF]   (default 8 1024 2816)
# Without ../shared (the Llama 2 tokenizer llama.cpp needs) or node, only the
# conversion part runs.
set -eu
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$root/$BUILD" ;; esac
for p in gguf2onnx hf2gguf requant; do
    [ -x "$BUILD/bin/$p" ] || { echo "bench/gguf2onnx.sh: $BUILD/bin/$p not built" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/gguf2onnx.sh: /usr/bin/time (GNU time) needed" >&2; exit 2; }
layers=${1:-8} embd=${2:-1024} ff=${3:-2816}
dir=$(mktemp -d "${TMPDIR:-/tmp}/gguf2onnx-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
tokm="$root/../shared/fixtures/real/llama2-tokenizer.model"
if [ -f "$tokm" ]; then
    "$BUILD/fixtures/make_hf" --arch llama --layers "$layers" --embd "$embd" --ff "$ff" --heads 16 \
        --kv-heads 4 --vocab 32000 --dtype f16 --tokenizer-model "$tokm" "$dir/hf" > /dev/null
    "$BUILD/bin/hf2gguf" -q --outtype f16 "$dir/hf" -o "$dir/F16.gguf"
    rm -rf "$dir/hf"
else
    echo "(../shared not found: synthetic vocabulary, no llama.cpp comparison)"
    "$BUILD/fixtures/make_gguf" --layers "$layers" --embd "$embd" --ff "$ff" --heads 16 --kv-heads 4 \
        --vocab 32000 "$dir/F16.gguf"
fi
"$BUILD/bin/requant" -q "$dir/F16.gguf" "$dir/Q4_0.gguf" Q4_0
echo "model: llama $layers layers, embd $embd, ff $ff, vocab 32000; $("$BUILD/bin/gguf2onnx" --version); load average $(cut -d" " -f1-3 /proc/loadavg)"
rate() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%8.2f s  %7.0f MB/s", t, s / 1e6 / (t > 0 ? t : 1e-9) }'; }
for t in Q4_0 F16; do
    g="$dir/$t.gguf"
    size=$(stat -c %s "$g")
    cat "$g" > /dev/null
    /usr/bin/time -f '%e %M' -o "$dir/time" cp "$g" "$dir/copy.gguf"
    read -r secs rss < "$dir/time"
    echo "cp                $t $(printf '%8.1f' "$(echo "$size" | awk '{ print $1 / 1e6 }')") MB  $(rate "$size" "$secs")"
    rm -f "$dir/copy.gguf"
    /usr/bin/time -f '%e %M' -o "$dir/time" "$BUILD/bin/gguf2onnx" -q "$g" "$dir/onnx-$t"
    read -r secs rss < "$dir/time"
    out=$(du -sb "$dir/onnx-$t" | cut -f1)
    echo "gguf2onnx (+fsync) $t $(printf '%8.1f' "$(echo "$size" | awk '{ print $1 / 1e6 }')") MB  $(rate "$size" "$secs")  -> $((out / 1000000)) MB, peak RSS $((rss / 1024)) MB"
done
command -v node > /dev/null && [ -f "$tokm" ] || exit 0
# the script lives in the temp dir; node_modules is found through a symlink
ln -s "$root/tests/interop/node_modules" "$dir/node_modules"
cat > "$dir/speed.mjs" <<'JS'
import * as ort from "onnxruntime-node";
import { getLlama } from "node-llama-cpp";
import { readFileSync } from "node:fs";
const N = 32, P = 32, { G, O, T } = process.env;
const cfg = JSON.parse(readFileSync(O + "/genai_config.json")).model, d = cfg.decoder;
const sess = await ort.InferenceSession.create(O + "/model.onnx");
const i64 = (a) => BigInt64Array.from(a.map(BigInt));
let past = {}, ids = Array.from({ length: P }, (_, i) => 100 + i), pos = 0, t0 = 0;
for (let l = 0; l < d.num_hidden_layers; l++) for (const k of ["key", "value"])
  past[`past_key_values.${l}.${k}`] = new ort.Tensor("float32", new Float32Array(0), [1, d.num_key_value_heads, 0, d.head_size]);
for (let s = 0; s <= N; s++) {
  if (s === 1) t0 = performance.now();
  const n = ids.length, r = await sess.run({ ...past, input_ids: new ort.Tensor("int64", i64(ids), [1, n]),
    attention_mask: new ort.Tensor("int64", i64(Array(pos + n).fill(1)), [1, pos + n]),
    position_ids: new ort.Tensor("int64", i64(ids.map((_, i) => pos + i)), [1, n]) });
  for (const k in r) if (k.startsWith("present.")) past[k.replace("present", "past_key_values")] = r[k];
  pos += n; ids = [200 + s];
}
const ortTps = N / ((performance.now() - t0) / 1000);
await sess.release(); // its spinning worker threads would slow llama.cpp down
const llama = await getLlama({ build: "never", gpu: false });
const model = await llama.loadModel({ modelPath: G });
const ctx = await model.createContext({ contextSize: 256 });
const seq = ctx.getSequence();
await seq.evaluateWithoutGeneratingNewTokens(Array.from({ length: P }, (_, i) => 100 + i));
t0 = performance.now();
for (let s = 0; s < N; s++) await seq.evaluateWithoutGeneratingNewTokens([200 + s]);
const lcTps = N / ((performance.now() - t0) / 1000);
console.log(`decode ${T}: onnxruntime ${ortTps.toFixed(1)} tok/s, llama.cpp ${lcTps.toFixed(1)} tok/s (${N} steps after a ${P}-token prefill)`);
await ctx.dispose(); await model.dispose();
JS
for t in Q4_0 F16; do
    G="$dir/$t.gguf" O="$dir/onnx-$t" T=$t node "$dir/speed.mjs" 2>&1 | grep -v "node-llama-cpp\]" || true
done
