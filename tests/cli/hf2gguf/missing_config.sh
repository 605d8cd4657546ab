# A directory without config.json: exit 2, the message names the file, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
rm m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
