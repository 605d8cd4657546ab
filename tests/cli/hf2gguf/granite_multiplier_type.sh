# A granite multiplier of the wrong type (a string): exit 2 naming the key.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch granite m
sed -i 's/"logits_scaling": 8.0/"logits_scaling": "8"/' m/config.json
grep -q '"logits_scaling": "8"' m/config.json || fail "fixture edit"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
