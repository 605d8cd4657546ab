// bench/decode-speed.mjs -- decode tokens/s of a gguf2onnx directory in
// ONNX Runtime (onnxruntime-node) and of its source GGUF in llama.cpp
// (node-llama-cpp): a 32-token prefill, then 32 single-token steps through
// the KV cache, timed after the first. Information only, no assertion.
// Both run THREADS threads (default: the CPUs available). node-llama-cpp's
// own default is twice its math cores: on 2 vCPUs, 4 threads spinning at
// each barrier decoded a 4-layer n_embd-1024 model at 0.8 tok/s against 19
// with 2 and 64 with 1 (measured under a load average of 5).
// Shared by bench/gguf2onnx.sh and bench/gguf2onnx-families.sh, which copy
// it next to a node_modules symlink to tests/interop/node_modules.
//   G=MODEL.gguf O=ONNXDIR [THREADS=N] node decode-speed.mjs
// prints "onnxruntime X tok/s, llama.cpp Y tok/s".
import * as ort from "onnxruntime-node";
import { getLlama } from "node-llama-cpp";
import { readFileSync } from "node:fs";
import os from "node:os";
const N = 32, P = 32, { G, O } = process.env, threads = Number(process.env.THREADS ?? os.availableParallelism());
const cfg = JSON.parse(readFileSync(O + "/genai_config.json")).model, d = cfg.decoder;
const sess = await ort.InferenceSession.create(O + "/model.onnx", { logSeverityLevel: 3, intraOpNumThreads: threads });
const i64 = (a) => BigInt64Array.from(a.map(BigInt));
let past = {}, ids = Array.from({ length: P }, (_, i) => 100 + i), pos = 0, t0 = 0;
for (let l = 0; l < d.num_hidden_layers; l++) for (const k of ["key", "value"])
  past[`past_key_values.${l}.${k}`] = new ort.Tensor("float32", new Float32Array(0), [1, d.num_key_value_heads, 0, d.head_size]);
for (let s = 0; s <= N; s++) {
  if (s === 1) t0 = performance.now();
  const n = ids.length, feeds = { ...past, input_ids: new ort.Tensor("int64", i64(ids), [1, n]),
    attention_mask: new ort.Tensor("int64", i64(Array(pos + n).fill(1)), [1, pos + n]) };
  if (sess.inputNames.includes("position_ids"))
    feeds.position_ids = new ort.Tensor("int64", i64(ids.map((_, i) => pos + i)), [1, n]);
  const r = await sess.run(feeds);
  for (const k in r) if (k.startsWith("present.")) past[k.replace("present", "past_key_values")] = r[k];
  pos += n; ids = [200 + s];
}
const ortTps = N / ((performance.now() - t0) / 1000);
await sess.release(); // its spinning worker threads would slow llama.cpp down
const llama = await getLlama({ build: "never", gpu: false, logLevel: "error", logger: () => {} });
const model = await llama.loadModel({ modelPath: G });
const ctx = await model.createContext({ contextSize: 256, threads });
const seq = ctx.getSequence();
await seq.evaluateWithoutGeneratingNewTokens(Array.from({ length: P }, (_, i) => 100 + i));
t0 = performance.now();
for (let s = 0; s < N; s++) await seq.evaluateWithoutGeneratingNewTokens([200 + s]);
const lcTps = N / ((performance.now() - t0) / 1000);
console.log(`onnxruntime ${ortTps.toFixed(1)} tok/s, llama.cpp ${lcTps.toFixed(1)} tok/s`);
await ctx.dispose(); await model.dispose();
