// The mixture-of-experts families hf2gguf converts (mixtral as arch llama
// with experts, qwen2moe, qwen3moe) load in node-llama-cpp (its bundled
// llama.cpp) as F16 and evaluate a prompt: the header says what the
// checkpoint has (expert count, experts used, stacked {n_embd, n_ff,
// n_expert} tensors), every logit is finite, and a second evaluation from a
// fresh context gives the same logits; the same for requant's Q4_K_M of
// each conversion.
//
// Models from fixtures/make_hf: 2 layers, n_embd 256, 8 experts of width
// 256 (mixtral: --ff), 2 used per token, qwen2moe's shared expert 512 wide,
// 512-token synthetic vocabulary (~7 MB as F16 each).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const makeHf = path.join(build, "fixtures", "make_hf");
const run = promisify(execFile);

const VOCAB = 512, EXPERTS = 8, USED = 2, EMBD = 256, EXP_FF = 256;
const SHAPE = ["--layers", "2", "--embd", String(EMBD), "--heads", "4", "--kv-heads", "2",
  "--vocab", String(VOCAB), "--experts", String(EXPERTS), "--topk", String(USED)];
// family (make_hf --arch), GGUF architecture, extra make_hf options, --pre
const FAMILIES = [
  ["mixtral", "llama", ["--ff", String(EXP_FF)], null],
  ["qwen2moe", "qwen2moe", ["--ff", "512", "--moe-ff", String(EXP_FF), "--shared-ff", "512"], "qwen2"],
  ["qwen3moe", "qwen3moe", ["--ff", "512", "--moe-ff", String(EXP_FF)], "qwen2"],
];
// BOS, a byte token and pieces of the 512-token synthetic vocabulary
const PROMPT = [1, 300, 301, 17, 420, 511, 263, 299, 388, 402, 260, 305];

let tmp, llama;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "moe-"));
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function convert(family, extra, pre) {
  const hf = path.join(tmp, `hf-${family}`), f16 = path.join(tmp, `${family}-F16.gguf`);
  await run(makeHf, ["--arch", family, "--seed", "16", ...SHAPE, ...extra, hf]);
  await run(bin("hf2gguf"), ["-q", ...(pre ? ["--pre", pre] : []), "--outtype", "f16", hf, "-o", f16]);
  return f16;
}

// Logits after each prompt token, from a fresh context.
async function evaluate(model) {
  const ctx = await model.createContext({ contextSize: 64, threads: 2 });
  try {
    const res = await ctx.getSequence().controlledEvaluate(PROMPT.map((t) => [t, { generateNext: { logits: true } }]));
    return res.map((r) => {
      const row = new Array(VOCAB).fill(NaN);
      for (const [tok, v] of r.next.logits) row[tok] = v;
      return row;
    });
  } finally {
    await ctx.dispose();
  }
}

// Loads MODEL, checks its header, and evaluates the prompt twice: every
// logit finite, both runs equal, not all zero.
async function checkModel(label, modelPath, arch, fileType) {
  const model = await llama.loadModel({ modelPath });
  try {
    const md = model.fileInfo.metadata;
    assert.equal(md.general.architecture, arch);
    assert.equal(md.general.file_type, fileType, `${label}: general.file_type`);
    assert.equal(md[arch].expert_count, EXPERTS);
    assert.equal(md[arch].expert_used_count, USED);
    const exps = model.fileInfo.fullTensorInfo.filter((t) => t.name.endsWith("_exps.weight"));
    assert.equal(exps.length, 6, `${label}: ${exps.length} stacked expert tensors`);
    const gate = exps.find((t) => t.name === "blk.0.ffn_gate_exps.weight");
    assert.deepEqual(gate.dimensions.map(Number), [EMBD, EXP_FF, EXPERTS]);
    const a = await evaluate(model), b = await evaluate(model);
    assert.equal(a.length, PROMPT.length);
    for (let i = 0; i < a.length; i++) {
      const bad = a[i].findIndex((v) => !Number.isFinite(v));
      assert.equal(bad, -1, `${label}: position ${i}, token ${bad}: logit ${a[i][bad]}`);
      assert.deepEqual(b[i], a[i], `${label}: position ${i} differs between two runs`);
    }
    let sd = 0;
    for (const v of a.at(-1)) sd += v * v;
    assert.ok(sd > 0, `${label}: all logits zero`);
    console.log(`# ${label}: ${a.length} positions, rms logit ${Math.sqrt(sd / VOCAB).toFixed(3)}`);
    return gate.ggmlType;
  } finally {
    await model.dispose();
  }
}

const F16 = 1, MOSTLY_Q4_K_M = 15, Q4_K = 12, Q6_K = 14;

for (const [family, arch, extra, pre] of FAMILIES) {
  test(`${family}: node-llama-cpp evaluates the F16 conversion and its Q4_K_M`, { timeout: 120000 }, async () => {
    const f16 = await convert(family, extra, pre);
    assert.equal(await checkModel(`${family} F16`, f16, arch, F16), F16);
    const q4 = path.join(tmp, `${family}-Q4_K_M.gguf`);
    await run(bin("requant"), ["-q", f16, q4, "Q4_K_M"]);
    const gate = await checkModel(`${family} Q4_K_M`, q4, arch, MOSTLY_Q4_K_M);
    assert.ok(gate === Q4_K || gate === Q6_K, `${family} Q4_K_M: ffn_gate_exps has ggml type ${gate}`);
  });
}
