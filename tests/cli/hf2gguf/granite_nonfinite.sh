# A granite multiplier that is not finite as the float32 the key stores
# (1e300 overflows): exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch granite m
sed -i 's/"residual_multiplier": 0.22/"residual_multiplier": 1e300/' m/config.json
grep -q '"residual_multiplier": 1e300' m/config.json || fail "fixture edit"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
