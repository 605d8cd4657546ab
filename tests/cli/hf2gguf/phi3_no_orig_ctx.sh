# A phi3 config without original_max_position_embeddings (upstream
# requires it even without rope_scaling): exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
node -e 'const fs=require("fs"),f="m/config.json",c=JSON.parse(fs.readFileSync(f));
delete c.original_max_position_embeddings;
fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
