# A Q1_0 model (requant's 1-bit preset): the summary names the file type,
# the per-type table and the tensors give Q1_0 with its 1.125 bits per weight.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --embd 128 --ff 256 m.gguf
requant -q m.gguf q1.gguf Q1_0
gguf-inspect q1.gguf > out.txt
grep -qx 'file type       MOSTLY_Q1_0 (40)' out.txt || fail "file type line"
grep -Eq '^Q1_0 +15 +360448 +50688 +1\.1250 ' out.txt || fail "per-type row: $(grep Q1_0 out.txt)"
gguf-inspect --json q1.gguf > j.json
python3 - <<'PY'
import json
j = json.load(open("j.json"))
assert j["summary"]["file_type"] == {"id": 40, "name": "MOSTLY_Q1_0"}, j["summary"]
t = {x["name"]: x for x in j["tensors"]}["blk.0.ffn_down.weight"]
assert (t["type"], t["type_id"], t["shape"], t["bytes"]) == ("Q1_0", 41, [256, 128], 128 * 2 * 18), t
PY
