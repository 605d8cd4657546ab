# A phi3 LongRoPE long_factor of the wrong length (must be rope dims / 2
# = 8, as short_factor): exit 2 naming both keys and lengths, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
node -e 'const fs=require("fs"),f="m/config.json",c=JSON.parse(fs.readFileSync(f));
c.rope_scaling.long_factor.pop();
fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
