# A phi3 rope_scaling without type/rope_type: exit 2 naming the key,
# no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
node -e 'const fs=require("fs"),f="m/config.json",c=JSON.parse(fs.readFileSync(f));
delete c.rope_scaling.type;
fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
