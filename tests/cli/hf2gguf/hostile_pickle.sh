# A pickle that imports os.system is refused before anything runs: exit 2,
# the file is named, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --hostile-pickle m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
