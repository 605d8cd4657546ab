# A glm4 tokenizer.json without the <|user|> added token: Glm4Model.set_vocab
# raises KeyError; exit 2 naming the token, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch glm4 m
node -e 'const fs=require("fs"),p="m/tokenizer.json",j=JSON.parse(fs.readFileSync(p));
j.added_tokens=j.added_tokens.filter(t=>t.content!=="<|user|>");fs.writeFileSync(p,JSON.stringify(j))'
grep -q '<|user|>' m/tokenizer.json && fail "fixture edit"
hf2gguf --pre qwen2 m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
