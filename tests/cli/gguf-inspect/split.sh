# a split set: any shard opens all, split.* keys are checked, each tensor
# names its shard, and a missing or mismatched shard is an error
"$BUILD/fixtures/make_gguf" --layers 3 --split 3 model.gguf
ls model-0000[123]-of-00003.gguf >/dev/null
gguf-inspect --json model-00002-of-00003.gguf > s.json
node -e '
const j = JSON.parse(require("fs").readFileSync("s.json"));
if (j.files.length !== 3) throw new Error("files");
if (j.tensors.length !== 2 + 9 * 3 + 1) throw new Error("tensors " + j.tensors.length);
const shards = new Set(j.tensors.map((t) => t.shard));
if (shards.size !== 3) throw new Error("shards");
if (j.summary.architecture !== "llama") throw new Error("metadata from shard 1");
'
rm model-00003-of-00003.gguf
gguf-inspect model-00001-of-00003.gguf 2>err.txt && { echo "FAIL: missing shard accepted" >&2; exit 99; }
grep -q "model-00003-of-00003.gguf" err.txt
