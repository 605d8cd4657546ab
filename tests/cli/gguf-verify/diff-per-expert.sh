# diff --per-expert on a generated MoE model (4 experts, 2 layers, F16):
# one line / JSON object per expert slice of each *_exps tensor; with one
# expert of one tensor edited in B, that expert alone has an error; the
# tensor lines are those of a diff without the flag; a quantized copy has
# an error in every expert, the same for any -j; --max-rel-error tests the
# slices; a different expert count is a misshaped tensor, as without it.
. "$SRC/tests/cli/lib.sh"
MAKE="$BUILD/fixtures/make_gguf"
"$MAKE" --layers 2 --embd 256 --ff 256 --heads 4 --kv-heads 2 \
    --experts 4 --experts-used 2 --vocab 512 a.gguf
# B: 64 bytes (32 fp16 values) of row 5 of expert 2 of blk.1.ffn_down_exps
# (rows 512..767) set to 0x3c3c (1.0586)
cp a.gguf b.gguf
at=$(gguf-inspect --json a.gguf | node -e '
const j = JSON.parse(require("fs").readFileSync(0));
const t = j.tensors.find((x) => x.name === "blk.1.ffn_down_exps.weight");
if (t.type !== "F16" || t.shape.join() !== "256,256,4") throw new Error(JSON.stringify(t));
console.log(j.files[0].data_offset + t.offset + 512 * (2 * 256 + 5));')
head -c 64 /dev/zero | tr '\0' '\074' | dd of=b.gguf bs=1 seek="$at" conv=notrunc 2>/dev/null
cmp -s a.gguf b.gguf && fail "b.gguf not edited"

gguf-verify diff a.gguf b.gguf > plain.txt
gguf-verify diff --per-expert a.gguf b.gguf > per.txt
grep -q '^    expert ' plain.txt && fail "expert lines without --per-expert"
[ "$(grep -c '^    expert ' per.txt)" = 24 ] || fail "6 expert tensors x 4 experts: $(grep -c '^    expert ' per.txt)"
# every expert line follows its tensor's line, experts 0..3 in order
awk '/^  blk\.[0-9]+\.ffn_[a-z_]*exps\.weight /{e = 0; next}
     /^    expert /{ if ($2 != e++) bad = 1 }
     END { exit bad }' per.txt || fail "expert lines out of order"
# without the expert lines, the same table (the last line, max rel_err, takes
# the experts in)
grep -v '^    expert ' per.txt | head -n -1 > per-tensors.txt
head -n -1 plain.txt | cmp -s - per-tensors.txt || fail "tensor lines differ with --per-expert"
# the edited expert has an error, the other three and every other tensor's none
line() { # tensor expert
    awk -v t="$1" -v e="$2" '$1 == t {in_t = 1; next} /^  [^ ]/ {in_t = 0}
        in_t && $1 == "expert" && $2 == e {print; exit}' per.txt
}
for e in 0 1 3; do
    line blk.1.ffn_down_exps.weight $e | grep -q ' 0\.0000e+00  0\.0000e+00  0\.0000e+00  1\.0000000      inf$' ||
        fail "expert $e not exact: $(line blk.1.ffn_down_exps.weight $e)"
done
line blk.1.ffn_down_exps.weight 2 | grep -q ' 0\.0000e+00 ' && fail "expert 2 exact: $(line blk.1.ffn_down_exps.weight 2)"

gguf-verify diff --per-expert --json a.gguf b.gguf > per.json
gguf-verify diff --json a.gguf b.gguf > plain.json
node -e '
const fs = require("fs");
const per = JSON.parse(fs.readFileSync("per.json")), plain = JSON.parse(fs.readFileSync("plain.json"));
for (const t of plain.tensors) if ("experts" in t) throw new Error("experts without --per-expert: " + t.name);
let n = 0;
for (const t of per.tensors) {
  const p = plain.tensors.find((x) => x.name === t.name);
  if (JSON.stringify(p.metrics) !== JSON.stringify(t.metrics)) throw new Error("tensor metrics " + t.name);
  if (!/_exps\./.test(t.name)) {
    if ("experts" in t) throw new Error("experts on " + t.name);
    continue;
  }
  n++;
  if (t.experts.length !== 4) throw new Error("expert count " + t.name);
  t.experts.forEach((x, e) => {
    if (x.expert !== e || x.metrics.n !== 256 * 256) throw new Error(t.name + " " + JSON.stringify(x));
    const edited = t.name === "blk.1.ffn_down_exps.weight" && e === 2;
    if (edited !== (x.metrics.rmse > 0)) throw new Error(t.name + " expert " + e + " rmse " + x.metrics.rmse);
    if (!edited && (x.metrics.snr_db !== null || x.metrics.max_abs_err !== 0)) throw new Error("exact " + t.name);
  });
}
if (n !== 6) throw new Error("expert tensors " + n);
const t = per.tensors.find((x) => x.name === "blk.1.ffn_down_exps.weight");
const e2 = t.experts[2].metrics.rel_err;
if (!(e2 > t.metrics.rel_err * 1.5)) throw new Error("expert vs tensor " + e2 + " " + t.metrics.rel_err);
if (per.summary.max_rel_err !== e2 || plain.summary.max_rel_err !== t.metrics.rel_err)
  throw new Error("max_rel_err " + per.summary.max_rel_err + " " + plain.summary.max_rel_err);
fs.writeFileSync("limit.txt", String(Math.sqrt(e2 * t.metrics.rel_err)));
'
# --max-rel-error between the tensor's and the expert's error
lim=$(cat limit.txt)
gguf-verify diff --max-rel-error "$lim" a.gguf b.gguf > /dev/null || fail "tensor within $lim"
gguf-verify diff --per-expert --max-rel-error "$lim" a.gguf b.gguf > /dev/null 2> err.txt &&
    fail "expert within $lim"
[ $? = 1 ] || fail "--max-rel-error exit status"
grep -q 'exceeds --max-rel-error' err.txt || fail "message: $(cat err.txt)"

# a quantized B: every expert has an error, the same bits for -j 1 and -j 2
requant -q a.gguf q.gguf MXFP4_MOE
gguf-verify diff --per-expert --json -j 1 a.gguf q.gguf > q1.json
gguf-verify diff --per-expert --json -j 2 a.gguf q.gguf | cmp -s - q1.json || fail "-j 2 differs from -j 1"
node -e '
const j = JSON.parse(require("fs").readFileSync("q1.json"));
for (const t of j.tensors.filter((x) => /_exps\./.test(x.name))) {
  if (t.type_b !== "MXFP4" || t.experts.length !== 4) throw new Error(JSON.stringify(t));
  for (const x of t.experts)
    if (!(x.metrics.rel_err > 0.05 && x.metrics.rel_err < 0.2 && x.metrics.cosine > 0.98))
      throw new Error(t.name + " " + JSON.stringify(x));
}'

# 8 experts against 4: misshaped, no expert lines
"$MAKE" --layers 2 --embd 256 --ff 256 --heads 4 --kv-heads 2 \
    --experts 8 --experts-used 2 --vocab 512 c.gguf
gguf-verify diff --per-expert a.gguf c.gguf > mis.txt
grep -q '^    expert ' mis.txt && fail "expert lines on misshaped tensors"
grep -q '^  blk\.0\.ffn_up_exps\.weight .*misshaped: 256x256x4 in A, 256x256x8 in B$' mis.txt ||
    fail "misshaped line: $(grep ffn_up_exps mis.txt)"
gguf-verify diff --per-expert --json a.gguf c.gguf | node -e '
const j = JSON.parse(require("fs").readFileSync(0));
if (j.summary.misshaped !== 8 || j.tensors.some((t) => "experts" in t)) throw new Error(JSON.stringify(j.summary));'
