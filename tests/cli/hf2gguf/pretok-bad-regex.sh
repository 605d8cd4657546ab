# Hostile tokenizer.json: a Split regex PCRE2 cannot compile. The check hash
# cannot be computed: exit 2 naming the regex error, no output left.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama --bpe m
python3 - m/tokenizer.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(?i:'s|\\p{L}+"
json.dump(j, open(sys.argv[1], "w"))
PY
rc=0
hf2gguf -q m -o x.gguf 2>err || rc=$?
[ "$rc" = 2 ] || fail "exit $rc"
grep -q '^hf2gguf: m/tokenizer.json: cannot compute the BPE pre-tokenizer check hash: pre_tokenizer Split: bad regex at offset 13: missing closing parenthesis; use --pre NAME' err ||
    fail "message: $(cat err)"
assert_no_file x.gguf
echo ok
