// make demo, run whole (scripts/demo into a scratch DEMO_DIR): every step
// passes and says what it proved, and what it proves is checked again here.
//
// The demo converts a generated Qwen3-shaped checkpoint (Qwen3's real
// tokenizer), compares ../shared's smollm3 conversion with ec562eb's golden
// tables, quantizes, inspects, hashes and checks, exports Q4_0 to ONNX and
// runs README.md's ```js example (cut out of README.md by the demo itself,
// so the two cannot drift) next to llama.cpp (node-llama-cpp), then pipes
// hf2gguf into requant. Here: the README block is the one the demo ran, the
// example's prompt ids equal llama.cpp's, and its greedy tokens agree.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const shared = process.env.GGUFKIT_SHARED ?? path.resolve(repo, "../shared");
let tmp;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "demo-"));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("make demo: every step passes and proves what it says", { timeout: 600000 }, () => {
  const w = path.join(tmp, "demo");
  const out = execFileSync("sh", [path.join(repo, "scripts", "demo")], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, BUILD: build, DEMO_DIR: w, GGUFKIT_SHARED: shared },
  });
  const said = out.split("\n").filter((l) => l.startsWith("demo: "));
  const golden = existsSync(path.join(shared, "fixtures", "hf-2026", "smollm3"));
  const want = [
    /^demo: hf2gguf: a generated Qwen3-shaped checkpoint became f16.gguf, \d+ tensors, all valid$/,
    golden ? /^demo: hf2gguf: \.\.\/shared's smollm3 checkpoint gives what llama.cpp ec562eb's converter wrote: \d+ keys and \d+ tensors \(xxh64\) equal$/
      : /^demo: golden comparison skipped: no \.\.\/shared$/,
    /^demo: requant: Q4_K_M /,
    /^demo: gguf-inspect: /,
    /^demo: gguf-verify: \d+ tensors and the whole file hashed; the manifest checks OK$/,
    /^demo: gguf2onnx: [1-9]\d* Q4_0 matrices became MatMulNBits as they are/,
    /^demo: onnxruntime-node \(the README's example\) and llama.cpp: same prompt ids, \d+ of 16 greedy tokens equal$/,
    /^demo: hf2gguf -o - \| requant -: the stream gives the same bytes as the two files/,
  ];
  assert.equal(said.length, want.length, `demo lines:\n${said.join("\n")}`);
  want.forEach((re, i) => assert.match(said[i], re));

  const blocks = [...readFileSync(path.join(repo, "README.md"), "utf8").matchAll(/^```js\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, "README.md has one ```js block");
  assert.equal(readFileSync(path.join(w, "js", "run-onnx.mjs"), "utf8"), blocks[0][1]);

  const ort = JSON.parse(readFileSync(path.join(w, "ort.json"), "utf8"));
  const ref = JSON.parse(readFileSync(path.join(w, "llama.json"), "utf8"));
  assert.ok(ort.prompt.length > 1 && ort.prompt.every((t) => Number.isInteger(t) && t >= 0 && t < 151936));
  assert.deepEqual(ort.prompt, ref.prompt, "the rebuilt tokenizer.json tokenizes as llama.cpp");
  assert.equal(ort.tokens.length, 16);
  assert.equal(typeof ort.text, "string");
  // measured: all 16 equal (x86-64, node-llama-cpp 3.22.1). llama.cpp rounds
  // activations to 8 bits before its Q4_0 matmuls, so another CPU's build may
  // break a near tie late in the run: the first 12 must agree
  let same = 0;
  while (same < 16 && ort.tokens[same] === ref.tokens[same]) same++;
  console.log(`# ${same} of 16 greedy tokens equal`);
  assert.ok(same >= 12, `only the first ${same} greedy tokens equal llama.cpp's`);
});
