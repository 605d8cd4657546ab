# --keep-quant --dry-run counts exact and re-rounded blocks per weight, in
# text and JSON: an asymmetric GPTQ checkpoint with groups of 32 becomes
# Q4_1, exact where -scale*zero is an fp16; act-order and 2-bit variants;
# the counts add up to the weight's blocks, agree between text and JSON,
# and --keep-quant=strict passes exactly when no block is re-rounded.
. "$SRC/tests/cli/lib.sh"
for q in "--gptq-asym --gptq-group 32:Q4_1" "--gptq-desc-act --gptq-group 32:Q4_0" \
    "--gptq-bits 8 --gptq-asym:Q8_0" "--gptq-group 64:Q4_0"; do
    rm -rf m && mkdir m
    "$BUILD/fixtures/make_hf" --quant gptq ${q%:*} m/m
    hf2gguf --keep-quant --dry-run m/m > plan.txt
    hf2gguf --keep-quant --dry-run --json m/m > plan.json
    python3 - plan.txt plan.json "${q#*:}" <<'PY' > rounded || fail "$q"
import json, sys
text = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) == 6:
        e, r = f[5].split(" exact, ")
        text[f[0]] = (f[1], int(e), int(r.split()[0]))
plan = json.load(open(sys.argv[2]))
kept = [t for t in plan["tensors"] if "keep_quant" in t]
assert len(kept) == 14 and len(text) == 14, (len(kept), len(text))
rounded = 0
for t in kept:
    k = t["keep_quant"]
    ne = t["shape"][0] * t["shape"][1]
    assert t["type"] == sys.argv[3], t
    assert k["exact"] + k["rounded"] == ne // 32, t
    assert text[t["name"]] == (t["type"], k["exact"], k["rounded"]), t["name"]
    assert (k["why"] != "") == (k["rounded"] > 0), k
    rounded += k["rounded"]
print("some" if rounded else "none")
PY
    if hf2gguf -q --keep-quant=strict --dry-run m/m > /dev/null 2>&1; then s=none; else s=some; fi
    [ "$(cat rounded)" = "$s" ] || fail "$q: strict disagrees with the counts"
done
echo ok
