// gguf-inspect --json agrees exactly with an independent parser,
// @huggingface/gguf, on every key (name, type, value) and every tensor
// (name, type, shape, offset) of the real fixtures in ../shared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { gguf } from "@huggingface/gguf";

const shared = path.resolve(process.env.GGUFKIT_SHARED ?? "../../../shared");
const bin = path.join(process.env.BUILD, "bin", "gguf-inspect");
const TYPE_IDS = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12 };

function fixtures() {
  if (!existsSync(path.join(shared, "fixtures"))) {
    if (process.env.CI === "true") throw new Error(`../shared not found at ${shared}`);
    return null;
  }
  const real = path.join(shared, "fixtures", "real");
  return [
    ...readdirSync(real).filter((f) => f.endsWith(".gguf")).map((f) => path.join(real, f)),
    path.join(shared, "fixtures", "ref-llama-f16.gguf"),
  ];
}

// Compare our JSON value with the JS parser's (bigint for 64-bit ints).
function same(ours, theirs, where) {
  if (typeof theirs === "bigint") {
    if (typeof ours === "string") return assert.equal(ours, theirs.toString(), where);
    assert.equal(BigInt(ours), theirs, where);
  } else if (Array.isArray(theirs)) {
    assert.ok(Array.isArray(ours), `${where}: not an array`);
    assert.equal(ours.length, theirs.length, `${where}: length`);
    for (let i = 0; i < theirs.length; i++) same(ours[i], theirs[i], `${where}[${i}]`);
  } else if (typeof theirs === "number" && !Number.isFinite(theirs)) {
    assert.equal(ours, Number.isNaN(theirs) ? "NaN" : theirs > 0 ? "Infinity" : "-Infinity", where);
  } else if (typeof theirs === "string" && typeof ours === "string" && ours.startsWith("\uFEFF")) {
    // TextDecoder (used by @huggingface/gguf) drops a leading BOM: the llama
    // vocabulary's token U+FEFF reads as "" there. We keep the file's bytes.
    assert.equal(ours.slice(1), theirs, where);
  } else {
    assert.equal(ours, theirs, where);
  }
}

const files = fixtures();
for (const file of files ?? []) {
  test(`gguf-inspect agrees with @huggingface/gguf on ${path.basename(file)}`, async () => {
    const ours = JSON.parse(execFileSync(bin, ["--json", "--full", file], { maxBuffer: 1 << 30 }));
    const theirs = await gguf(file, { allowLocalFile: true, typedMetadata: true });
    const tm = theirs.typedMetadata;
    const shard = ours.files[0];
    assert.equal(shard.version, tm.version.value, "version");
    assert.equal(BigInt(shard.kv_count), tm.kv_count.value, "kv_count");
    assert.equal(BigInt(shard.tensor_count), tm.tensor_count.value, "tensor_count");
    assert.equal(BigInt(shard.data_offset), theirs.tensorDataOffset, "data offset");

    const theirKeys = Object.keys(tm).filter((k) => !["version", "tensor_count", "kv_count"].includes(k));
    assert.deepEqual(ours.metadata.map((kv) => kv.key), theirKeys, "keys and their order");
    for (const kv of ours.metadata) {
      const t = tm[kv.key];
      assert.equal(TYPE_IDS[kv.type], t.type, `${kv.key}: type`);
      if (kv.type === "arr") assert.equal(TYPE_IDS[kv.elem_type], t.subType, `${kv.key}: element type`);
      same(kv.value, t.value, kv.key);
    }

    assert.equal(ours.tensors.length, theirs.tensorInfos.length, "tensor count");
    theirs.tensorInfos.forEach((ti, i) => {
      const o = ours.tensors[i];
      assert.equal(o.name, ti.name, `tensor ${i} name`);
      assert.equal(o.type_id, ti.dtype, `${ti.name}: type`);
      assert.deepEqual(o.shape.map(BigInt), ti.shape, `${ti.name}: shape`);
      assert.equal(BigInt(o.offset), ti.offset, `${ti.name}: offset`);
    });
  });
}

test("shared fixtures are present (or skipped outside CI)", (t) => {
  if (!files) t.skip("SKIP: ../shared not found");
  else assert.ok(files.length >= 8, "expected the 7 real fixtures and the ref model");
});
