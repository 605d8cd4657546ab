// gguf-inspect --mem against llama.cpp itself (issue 21): node-llama-cpp
// loads fixture models on the CPU at several context sizes, K/V cache types,
// batch sizes and flash-attention settings; the sizes llama.cpp logs for the
// model buffers (CPU_Mapped + CPU_REPACK + AMX: node-llama-cpp runs its
// sapphirerapids build on AMX processors, where --amx's default, auto, plans
// the AMX buffer too), the KV cache and the compute
// buffer must each be within 5% of ours. Families: llama (F16 and Q4_K_M,
// whose Q4_K weights the CPU backend repacks), qwen3, gemma3 (a sliding
// window on every layer of a 4-layer model) and a mixture of experts (llama
// with 4 experts, 2 used per token: make_gguf --experts, as no converter of
// ours writes one; F16, and Q4_0 whose 3-D expert stacks the CPU repacks),
// and the other dense families hf2gguf converts: gemma2, phi3, granite,
// smollm3, olmo2, glm4.
// For the quantized models, --as PRESET on the F16 model (no quantizing)
// must match llama.cpp's model buffers too. node-llama-cpp's own estimate
// (GgufInsights) is printed next to both, not asserted.
//
// llama.cpp prints MiB with two decimals, so every figure compared here is
// kept above 0.3 MiB by the shapes (rounding stays under 2%).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, GgufInsights, GgmlType, readGgufFileInfo } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const MiB = 1024 * 1024;
const SHAPE = ["--layers", "4", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2",
  "--vocab", "512"];
// [context, batch, K type, V type, flash attention]
const CONFIGS = [
  [512, 512, "F16", "F16", false],
  [1024, 256, "F16", "F16", false],
  [2048, 128, "Q8_0", "Q8_0", true],
  [2048, 512, "Q4_0", "Q4_0", true],
  [4096, 256, "F16", "Q8_0", true],
];

let tmp, llama, logs = [];

async function settledLogs() {
  for (let n = -1; n !== logs.length; ) {
    n = logs.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return logs.splice(0);
}

// Sum of "<what> buffer size = X MiB" lines matching re, in bytes.
function logged(lines, re) {
  let sum = 0, seen = false;
  for (const l of lines) {
    const m = re.exec(l);
    if (m) sum += Number(m[1]) * MiB, seen = true;
  }
  return seen ? sum : undefined;
}
const logValue = (lines, key) => Number(lines.map((l) => new RegExp(`${key}\\s*=\\s*(\\d+)`).exec(l))
  .find(Boolean)?.[1]);

function ours(file, args) {
  const out = execFileSync(bin("gguf-inspect"), ["--json", "--no-kv", "--no-tensors", "--mem", ...args, file],
    { encoding: "utf8" });
  return JSON.parse(out).memory.devices[0];
}

function near(label, want, got, limit = 0.05) {
  const rel = Math.abs(got - want) / want;
  assert.ok(rel <= limit, `${label}: llama.cpp ${(want / MiB).toFixed(3)} MiB, ours ${(got / MiB).toFixed(3)} MiB (${(rel * 100).toFixed(1)}%)`);
  return `${(want / MiB).toFixed(2)}/${(got / MiB).toFixed(2)}`;
}

const PHI3_ADDED = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>",
  "<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>",
  "<|placeholder6|>", "<|user|>"];

const pct = (a, b) => `${(((b - a) / a) * 100).toFixed(0)}%`;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "mem-"));
  llama = await getLlama({ build: "never", gpu: false, logLevel: "debug",
    logger: (level, msg) => logs.push(msg.trim()) });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function makeModel(arch, quant) {
  const hf = path.join(tmp, `hf-${arch}`), f16 = path.join(tmp, `${arch}.gguf`);
  if (arch === "llama-moe" && !existsSync(f16)) // llama's vocabulary: llama.cpp cannot load make_gguf's own
    execFileSync(path.join(build, "fixtures", "make_gguf"), [...SHAPE.filter((a, i) => i < 10), "--ff", "256",
      "--ctx", "4096", "--experts", "4", "--experts-used", "2", "--vocab-from", makeModel("llama"), f16]);
  if (!existsSync(f16)) {
    execFileSync(path.join(build, "fixtures", "make_hf"), ["--arch", arch, ...SHAPE, hf]);
    if (arch === "phi3") // llama.cpp's phi3 vocabulary needs the added tokens real checkpoints have
      writeFileSync(path.join(hf, "added_tokens.json"), JSON.stringify(Object.fromEntries(PHI3_ADDED.map(
        (t, i) => [t, 512 - PHI3_ADDED.length + i]))));
    // make_hf's toy BPE tokenizers (qwen, olmo2, glm4) have no known check hash: --pre names one
    const pre = /^(qwen|olmo2|glm4)/.test(arch) ? ["--pre", "qwen2"] : [];
    execFileSync(bin("hf2gguf"), ["-q", ...pre, "--outtype", "f16", hf, "-o", f16]);
  }
  if (!quant) return f16;
  const q = path.join(tmp, `${arch}-${quant}.gguf`);
  execFileSync(bin("requant"), ["-q", f16, q, quant]);
  return q;
}

for (const [arch, quant] of [["llama"], ["llama", "Q4_K_M"], ["qwen3"], ["gemma3"], ["llama-moe"], ["llama-moe", "Q4_0"],
  ["gemma2"], ["phi3"], ["granite"], ["smollm3"], ["olmo2"], ["glm4"]]) {
  test(`${arch}${quant ? " " + quant : ""}: --mem within 5% of llama.cpp`, { timeout: 300000 }, async () => {
    const file = makeModel(arch, quant);
    logs = [];
    const model = await llama.loadModel({ modelPath: file });
    const insights = await GgufInsights.from(await readGgufFileInfo(file), llama);
    try {
      const load = await settledLogs();
      const weights = logged(load, /CPU_Mapped model buffer size =\s*([\d.]+) MiB/) +
        (logged(load, /CPU_REPACK model buffer size =\s*([\d.]+) MiB/) ?? 0) +
        (logged(load, /AMX model buffer size =\s*([\d.]+) MiB/) ?? 0);
      for (const [ctx, batch, kt, vt, fa] of CONFIGS) {
        const cx = await model.createContext({ contextSize: ctx, batchSize: batch, threads: 1,
          flashAttention: fa, experimentalKvCacheKeyType: kt, experimentalKvCacheValueType: vt });
        const lines = await settledLogs();
        await cx.dispose();
        // node-llama-cpp may adjust the batch (one more for a sliding window): take what llama.cpp used
        const nCtx = logValue(lines, "n_ctx"), nUb = logValue(lines, "n_ubatch");
        const kv = logged(lines, /CPU KV buffer size =\s*([\d.]+) MiB/);
        const compute = logged(lines, /CPU compute buffer size =\s*([\d.]+) MiB/);
        const label = `${arch}${quant ? " " + quant : ""} -c ${nCtx} -ub ${nUb} -ctk ${kt} -ctv ${vt} -fa ${fa ? "on" : "off"}`;
        const d = ours(file, ["-c", String(nCtx), "-b", String(nUb), "-ub", String(nUb), "-ctk", kt.toLowerCase(),
          "-ctv", vt.toLowerCase(), "-fa", fa ? "on" : "off"]);
        const w = near(`${label}: model buffers`, weights, d.weights_bytes + d.repack_bytes + d.amx_bytes);
        if (quant) { // --as on the F16 model: the same plan, without quantizing
          const a = ours(path.join(tmp, `${arch}.gguf`), ["-c", String(nCtx), "-ub", String(nUb), "--as", quant]);
          near(`${label}: --as ${quant} model buffers`, weights, a.weights_bytes + a.repack_bytes + a.amx_bytes);
        }
        const k = near(`${label}: KV cache`, kv, d.kv_cache_bytes);
        const c = near(`${label}: compute buffer`, compute, d.compute_bytes);
        const gi = insights.estimateContextResourceRequirements({ contextSize: nCtx, modelGpuLayers: 0,
          batchSize: nUb, flashAttention: fa, kvCacheKeyType: GgmlType[kt], kvCacheValueType: GgmlType[vt] });
        const gm = insights.estimateModelResourceRequirements({ gpuLayers: 0 });
        console.log(`# ${label}: llama.cpp/ours MiB: weights ${w}, kv ${k}, compute ${c}; ` +
          `GgufInsights: model ${(gm.cpuRam / MiB).toFixed(2)} (${pct(weights, gm.cpuRam)}), ` +
          `context ${(gi.cpuRam / MiB).toFixed(2)} vs llama.cpp kv+compute ${((kv + compute) / MiB).toFixed(2)} ` +
          `(${pct(kv + compute, gi.cpuRam)})`);
      }
    } finally {
      await model.dispose();
    }
  });
}
