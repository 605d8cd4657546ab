# Hostile tokenizer.json: a merge whose tokens are not in the vocab
# (tokenizers refuses such a file). Exit 2 naming the merge, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe m
python3 - m/tokenizer.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["model"]["merges"].insert(2, "\u0120zq\u00ff qz")
json.dump(j, open(sys.argv[1], "w"))
PY
rc=0
hf2gguf -q m -o x.gguf 2>err || rc=$?
[ "$rc" = 2 ] || fail "exit $rc"
grep -q 'check hash: model.merges\[2\]: a token of the merge is not in the vocab; use --pre' err ||
    fail "message: $(cat err)"
assert_no_file x.gguf
echo ok
