// requant on mixture-of-experts models (issue 16): node-llama-cpp (its
// bundled llama.cpp) loads what requant writes from generated MoE models
// and evaluates a prompt: all logits finite, a second evaluation from a
// fresh context gives the same logits.
//
// Models (make_gguf, the shapes of tests/cli/requant/moe-golden.sh with 2-3
// layers, llama's 512-token vocabulary from a make_hf + hf2gguf llama,
// since llama.cpp cannot load make_gguf's own): a llama with 8 experts
// (Mixtral's layout), a deepseek2 with a leading dense block, shared experts
// and the legacy fused attn_kv_b, and a deepseek2 with MLA's 3-D
// attn_k_b/attn_v_b. Each as Q4_K_M; the llama one also as IQ4_XS with a
// per-expert GGUF imatrix (tests/cli/requant/moe-imatrix.py) and as
// MXFP4_MOE (experts MXFP4, the rest Q8_0). On AMX processors the test
// loads node-llama-cpp's next best CPU variant (no-amx.mjs): its AMX one
// aborts on deepseek2 graphs, whoever wrote the file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama } from "node-llama-cpp";
import { cpuWithoutAmx } from "./no-amx.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const tool = (p) => path.join(build, "fixtures", p);
const VOCAB = 512;
const PROMPT = [1, 300, 301, 17, 420, 511, 263, 299, 388, 402, 260, 305];

const DS2 = ["--arch", "deepseek2", "--embd", "256", "--ff", "256", "--heads", "2", "--qk-nope", "128",
  "--qk-rope", "64", "--v-head", "128", "--ctx", "256"];
const MODELS = {
  "llama-8x": ["--layers", "2", "--embd", "256", "--ff", "256", "--heads", "4", "--kv-heads", "2",
    "--experts", "8", "--experts-used", "2", "--ctx", "256"],
  "deepseek2-kv_b": [...DS2, "--layers", "3", "--experts", "16", "--experts-used", "4"],
  "deepseek2-mla": [...DS2, "--mla", "--layers", "2", "--experts", "4", "--experts-used", "2"],
};
const PRESETS = { "llama-8x": ["Q4_K_M", "IQ4_XS", "MXFP4_MOE"] };
// ggml type ids
const Q4_K = 12, MXFP4 = 39;

let tmp, llama, vocabFrom;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "requant-moe-"));
  const hf = path.join(tmp, "hf-llama");
  vocabFrom = path.join(tmp, "llama.gguf");
  execFileSync(tool("make_hf"), ["--arch", "llama", "--layers", "1", "--embd", "64", "--ff", "128",
    "--heads", "2", "--kv-heads", "2", "--vocab", String(VOCAB), hf]);
  execFileSync(bin("hf2gguf"), ["-q", "--outtype", "f16", hf, "-o", vocabFrom]);
  cpuWithoutAmx(tmp);
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function quantize(name, preset) {
  const f16 = path.join(tmp, `${name}.gguf`), out = path.join(tmp, `${name}-${preset}.gguf`);
  execFileSync(tool("make_gguf"), [...MODELS[name], "--vocab-from", vocabFrom, f16]);
  const args = ["-q", "-f"];
  if (preset === "IQ4_XS") {
    const table = execFileSync(tool("tensor_hashes"), [f16]);
    const im = path.join(tmp, `${name}.imatrix.gguf`);
    execFileSync("python3", [path.join(repo, "tests/cli/requant/moe-imatrix.py"), im], { input: table });
    args.push("--imatrix", im);
  }
  execFileSync(bin("requant"), [...args, f16, out, preset]);
  return out;
}

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

for (const name of Object.keys(MODELS)) {
  for (const preset of PRESETS[name] ?? ["Q4_K_M"]) {
    test(`${name} ${preset}: node-llama-cpp loads requant's output and evaluates`, { timeout: 120000 }, async () => {
      const file = quantize(name, preset);
      const model = await llama.loadModel({ modelPath: file });
      try {
        const info = model.fileInfo;
        const exps = info.fullTensorInfo.filter((x) => x.name.endsWith("_exps.weight"));
        assert.ok(exps.length >= 3, `${name}: ${exps.length} expert tensors`);
        for (const x of exps) assert.equal(x.dimensions.length, 3, `${x.name} is not 3-D`);
        if (preset === "Q4_K_M") {
          assert.equal(info.metadata.general.file_type, 15);
          assert.ok(exps.some((x) => x.ggmlType === Q4_K), `${name}: no Q4_K expert tensor`);
        } else if (preset === "MXFP4_MOE") {
          assert.equal(info.metadata.general.file_type, 38);
          for (const x of exps) assert.equal(x.ggmlType, MXFP4, `${x.name} is not MXFP4`);
        }
        const a = await evaluate(model), b = await evaluate(model);
        assert.equal(a.length, PROMPT.length);
        for (let i = 0; i < a.length; i++) {
          const bad = a[i].findIndex((v) => !Number.isFinite(v));
          assert.equal(bad, -1, `${name} ${preset}: position ${i}, token ${bad}: logit ${a[i][bad]}`);
          assert.deepEqual(b[i], a[i], `${name} ${preset}: position ${i} differs between two runs`);
        }
        let sd = 0;
        for (const v of a.at(-1)) sd += v * v;
        assert.ok(sd > 0, "all logits zero");
        console.log(`# ${name} ${preset}: ${a.length} positions, rms logit ${Math.sqrt(sd / VOCAB).toFixed(3)}`);
      } finally {
        await model.dispose();
      }
    });
  }
}
