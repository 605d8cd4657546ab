# Hostile tokenizer.json: 400000 merges (repeats of a valid one) over a toy
# vocab, the last one bad. The encoder walks them all, names the bad one,
# exits 2, and its peak memory stays bounded (measured: 137 MB plain, 222 MB ASan,
# of which jansson's parse tree is most).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe m
python3 - m/tokenizer.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = j["model"]["merges"]
j["model"]["merges"] = m + [m[0]] * (400000 - len(m) - 1) + ["\u0120 nosuchtoken"]
json.dump(j, open(sys.argv[1], "w"))
PY
rc=0
/usr/bin/time -o rss -f %M hf2gguf -q m -o x.gguf 2>err || rc=$?
[ "$rc" = 2 ] || fail "exit $rc"
grep -q 'check hash: model.merges\[399999\]: a token of the merge is not in the vocab' err ||
    fail "message: $(cat err)"
assert_no_file x.gguf
[ "$(tail -n1 rss)" -lt 1000000 ] || fail "peak RSS $(tail -n1 rss) KB"
echo ok
