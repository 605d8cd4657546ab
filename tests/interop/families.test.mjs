// Every hf2gguf family beyond llama/qwen loads in node-llama-cpp (its
// bundled llama.cpp) as F16 and as Q4_K_M and evaluates a prompt: all
// logits finite, and a second evaluation from a fresh context gives the same
// logits (issue 15).
//
// The families are data-driven: `hf2gguf --list-archs` minus llama, qwen2
// and qwen3 (covered by the other interop tests), each one tested if
// fixtures/make_hf knows it (else skipped with make_hf's message), so a
// family appears here once both tools support it. Models: 2 layers, n_embd
// 256, n_ff 512 (row lengths multiples of 256, so Q4_K_M's k-quants apply
// instead of the fallback types), 512-token synthetic vocabulary: ~3 MB as
// F16, ~0.9 MB as Q4_K_M. A family the bundled llama.cpp does not know
// ("unknown model architecture") is skipped naming the bundled release; any
// other load failure is ours (a key or tensor written wrong) and fails.
//
// phi3: llama.cpp sets token attributes by general.name, and for a name
// containing "phi3" looks up <unk>, <s>, </s> and <|endoftext|> with
// std::map::at, so a Phi-3-named model without <|endoftext|> fails with
// "error loading model vocabulary: _Map_base::at" (convert_hf_to_gguf.py
// writes the same name and vocabulary for this checkpoint). make_hf's
// synthetic vocabulary has only the first three, so the phi3 checkpoint gets
// the added_tokens.json of Phi-3-mini (its 11 tokens at the top of the
// vocabulary), as the real checkpoints have.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const makeHf = path.join(build, "fixtures", "make_hf");

const COVERED = new Set(["llama", "qwen2", "qwen3"]);
const families = execFileSync(bin("hf2gguf"), ["--list-archs"], { encoding: "utf8" })
  .split("\n")
  .map((line) => line.split("\t")[0])
  .filter((a) => a && !COVERED.has(a));

const SHAPE = ["--layers", "2", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2",
  "--vocab", "512"];
const VOCAB = 512;
// BOS, a byte token and pieces of the 512-token synthetic vocabulary
const PROMPT = [1, 300, 301, 17, 420, 511, 263, 299, 388, 402, 260, 305];
const run = promisify(execFile);

const PHI3_ADDED = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>",
  "<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>",
  "<|placeholder6|>", "<|user|>"];
// What the real checkpoints of a family have and make_hf does not write.
const AMEND = {
  phi3: (hf) => writeFileSync(path.join(hf, "added_tokens.json"),
    JSON.stringify(Object.fromEntries(PHI3_ADDED.map((t, i) => [t, VOCAB - PHI3_ADDED.length + i])))),
};

let tmp, llama, logs = [];

// One family's two files, or { skip } when make_hf does not know the family.
async function convert(arch) {
  const hf = path.join(tmp, `hf-${arch}`);
  try {
    await run(makeHf, ["--arch", arch, ...SHAPE, hf]);
  } catch (e) {
    if (/unknown --arch/.test(e.stderr)) return { skip: e.stderr.trim() };
    throw e;
  }
  AMEND[arch]?.(hf);
  const f16 = path.join(tmp, `${arch}-F16.gguf`), q4 = path.join(tmp, `${arch}-Q4_K_M.gguf`);
  // make_hf's toy BPE tokenizers have no known check hash: --pre names one
  const pre = arch.startsWith("qwen") ? "qwen2" : "llama-bpe";
  await run(bin("hf2gguf"), ["-q", "--pre", pre, "--outtype", "f16", hf, "-o", f16]);
  await run(bin("requant"), ["-q", f16, q4, "Q4_K_M"]);
  return { F16: f16, Q4_K_M: q4 };
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

// llama.cpp's log lines reach the logger after loadModel has settled: wait
// until none came for 200 ms.
async function settledLogs() {
  for (let n = -1; n !== logs.length; ) {
    n = logs.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return [...new Set(logs)];
}

async function checkFile(t, arch, type, gguf) {
  let model;
  logs = [];
  try {
    model = await llama.loadModel({ modelPath: gguf });
  } catch (e) {
    const why = [e.message, ...(await settledLogs())].join(" | ");
    const rel = llama.llamaCppRelease;
    if (why.includes(`unknown model architecture: '${arch}'`)) {
      const msg = `node-llama-cpp's llama.cpp (${rel.repo} ${rel.release}) does not know ${arch}: ${why}`;
      console.log(`# SKIP ${arch} ${type}: ${msg}`);
      return t.skip(msg);
    }
    assert.fail(`${arch} ${type}: node-llama-cpp cannot load it: ${why}`);
  }
  try {
    assert.equal(model.fileInfo.metadata.general.architecture, arch);
    if (type === "Q4_K_M") {
      assert.equal(model.fileInfo.metadata.general.file_type, 15);
      const q4k = model.fileInfo.fullTensorInfo.filter((x) => x.ggmlType === 12).length;
      assert.ok(q4k >= 4, `${arch} Q4_K_M: only ${q4k} Q4_K tensors`);
    }
    const a = await evaluate(model), b = await evaluate(model);
    assert.equal(a.length, PROMPT.length);
    for (let i = 0; i < a.length; i++) {
      const bad = a[i].findIndex((v) => !Number.isFinite(v));
      assert.equal(bad, -1, `${arch} ${type}: position ${i}, token ${bad}: logit ${a[i][bad]}`);
      assert.deepEqual(b[i], a[i], `${arch} ${type}: position ${i} differs between two runs`);
    }
    let sd = 0;
    for (const v of a.at(-1)) sd += v * v;
    console.log(`# ${arch} ${type}: ${a.length} positions, rms logit ${Math.sqrt(sd / VOCAB).toFixed(3)}`);
  } finally {
    await model.dispose();
  }
}

// At most two conversions at a time (two cores); each test awaits its own.
let slots = 2;
const waiting = [];
async function limited(fn) {
  while (slots === 0) await new Promise((r) => waiting.push(r));
  slots--;
  try {
    return await fn();
  } finally {
    slots++;
    waiting.shift()?.();
  }
}

const files = new Map();
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "families-"));
  for (const a of families) {
    const p = limited(() => convert(a));
    p.catch(() => {}); // observed by the family's test
    files.set(a, p);
  }
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error",
    logger: (level, msg) => logs.push(msg.trim()) });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("hf2gguf --list-archs has families beyond llama/qwen", () => {
  assert.ok(families.length > 0, "no families listed");
  console.log(`# families: ${families.join(" ")}`);
});

for (const arch of families) {
  test(`${arch}: node-llama-cpp evaluates the F16 and Q4_K_M conversions`, { timeout: 120000 }, async (t) => {
    const f = await files.get(arch);
    if (f.skip) {
      console.log(`# SKIP ${arch}: ${f.skip}`);
      return t.skip(f.skip);
    }
    for (const type of ["F16", "Q4_K_M"]) await t.test(type, (st) => checkFile(st, arch, type, f[type]));
  });
}
