// gguf-edit's output in real consumers: node-llama-cpp loads an edited
// model and resolves its chat wrapper from the new tokenizer.chat_template
// (a ChatML template gives its ChatML wrapper, any other template the Jinja
// wrapper holding exactly our text), and @huggingface/gguf reads every
// edited key back with its type and value.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gguf } from "@huggingface/gguf";
import { getLlama, resolveChatWrapper, ChatMLChatWrapper, JinjaTemplateChatWrapper } from "node-llama-cpp";

const shared = path.resolve(process.env.GGUFKIT_SHARED ?? "../../../shared");
const ref = path.join(shared, "fixtures", "ref-llama-f16.gguf");
// a llama with a real vocabulary (llama-2): the one node-llama-cpp loads
const tiny = path.join(shared, "fixtures", "real", "llama-2-tiny-random.gguf");
const bin = path.join(process.env.BUILD, "bin", "gguf-edit");
const dir = mkdtempSync(path.join(os.tmpdir(), "edit-interop-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function haveShared() {
  if (existsSync(ref)) return true;
  if (process.env.CI === "true") throw new Error(`../shared not found at ${shared}`);
  return false;
}

function edit(out, ...args) {
  return editFrom(ref, out, ...args);
}

function editFrom(input, out, ...args) {
  const file = path.join(dir, out);
  execFileSync(bin, ["-q", input, file, ...args]);
  return file;
}

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const CUSTOM =
  "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\\n{% endfor %}" +
  "{% if add_generation_prompt %}### assistant: {% endif %}";

test("node-llama-cpp resolves the chat wrapper from gguf-edit's new template", { timeout: 120000 }, async (t) => {
  if (!haveShared()) return t.skip("../shared not found");
  writeFileSync(path.join(dir, "chatml.jinja"), CHATML);
  writeFileSync(path.join(dir, "custom.jinja"), CUSTOM);
  const chatml = editFrom(tiny, "chatml.gguf", "--chat-template", path.join(dir, "chatml.jinja"));
  const custom = editFrom(tiny, "custom.gguf", "--chat-template", path.join(dir, "custom.jinja"));
  const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
  try {
    const m1 = await llama.loadModel({ modelPath: chatml });
    assert.equal(m1.fileInfo.metadata.tokenizer.chat_template, CHATML);
    assert.ok(resolveChatWrapper(m1) instanceof ChatMLChatWrapper, "a ChatML template gives the ChatML wrapper");
    await m1.dispose();
    const m2 = await llama.loadModel({ modelPath: custom });
    const w = resolveChatWrapper(m2);
    assert.ok(w instanceof JinjaTemplateChatWrapper, `custom template resolved to ${w?.wrapperName}`);
    assert.equal(w.template, CUSTOM);
    await m2.dispose();
  } finally {
    await llama.dispose();
  }
});

test("@huggingface/gguf reads gguf-edit's keys back", async (t) => {
  if (!haveShared()) return t.skip("../shared not found");
  writeFileSync(path.join(dir, "strs.json"), JSON.stringify(["a", "b,c", "ü"]));
  const file = edit("types.gguf", "-f", "--set", "test.u8=u8:200", "--set", "test.i16=i16:-300",
    "--set", "test.u64=u64:18446744073709551615", "--set", "test.f64=f64:0.5", "--set", "test.bool=bool:true",
    "--set", "general.name=str:Edited", "--set-array", `test.strs=str:@${path.join(dir, "strs.json")}`,
    "--set-array", "test.ints=i32:-1,2,3", "--remove", "llama.rope.*", "--special-token", "eos=tok7",
    "--set", "llama.block_count=u64:8");
  const { typedMetadata: tm } = await gguf(file, { allowLocalFile: true, typedMetadata: true });
  const want = {
    "test.u8": [0, 200], "test.i16": [3, -300], "test.u64": [10, 18446744073709551615n], "test.f64": [12, 0.5],
    "test.bool": [7, true], "general.name": [8, "Edited"], "tokenizer.ggml.eos_token_id": [4, 7],
    "llama.block_count": [10, 8n],
  };
  for (const [k, [type, value]] of Object.entries(want)) {
    assert.equal(tm[k]?.type, type, `${k}: type`);
    assert.equal(tm[k].value, value, `${k}: value`);
  }
  assert.deepEqual(tm["test.strs"].value, ["a", "b,c", "ü"]);
  assert.equal(tm["test.strs"].subType, 8);
  assert.deepEqual(tm["test.ints"].value, [-1, 2, 3]);
  assert.equal(tm["test.ints"].subType, 5);
  assert.equal(tm["llama.rope.freq_base"], undefined, "removed");
  assert.equal(Object.keys(tm)[3], "general.architecture", "general.architecture first");
});
