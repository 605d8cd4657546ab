# Hostile tokenizer.json nesting. Sequences nested 900 deep (1800 JSON levels, within
# jansson's 2048 limit) are walked and hash like the flat file; 5000 deep
# is refused by the JSON parser. Both exit 2 (the toy hash is unknown), no
# crash, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe m
rc=0
hf2gguf -q m -o x.gguf 2>flat.err || rc=$?
[ "$rc" = 2 ] || fail "flat: exit $rc"
for depth in 900 5000; do
    cp -r m d$depth
    python3 - d$depth/tokenizer.json $depth <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])  # written as text: Python's json recurses too
pre = '{"type": "Sequence", "pretokenizers": [' * n + json.dumps(j["pre_tokenizer"]) + "]}" * n
j["pre_tokenizer"] = None
open(sys.argv[1], "w").write(json.dumps(j).replace('"pre_tokenizer": null', '"pre_tokenizer": ' + pre))
PY
    rc=0
    hf2gguf -q d$depth -o x.gguf 2>d$depth.err || rc=$?
    [ "$rc" = 2 ] || fail "depth $depth: exit $rc"
done
[ "$(sed 's/^hf2gguf: d900/hf2gguf: m/' d900.err)" = "$(cat flat.err)" ] ||
    fail "nested: $(cat d900.err) vs flat: $(cat flat.err)"
grep -q '^hf2gguf: .*d5000/tokenizer.json: maximum parsing depth reached' d5000.err ||
    fail "5000 deep: $(cat d5000.err)"
assert_no_file x.gguf
echo ok
