# A phi3 rope_scaling type other than su/longrope/yarn: exit 2 naming
# the key and the type, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
node -e 'const fs=require("fs"),f="m/config.json",c=JSON.parse(fs.readFileSync(f));
c.rope_scaling.type="dynamic";
fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
