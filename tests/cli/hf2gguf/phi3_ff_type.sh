# A phi3 intermediate_size that is a string (Phi3MiniModel packs
# hparams["intermediate_size"] as a u32): exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 m
sed -i 's/"intermediate_size": 160,/"intermediate_size": "160",/' m/config.json
grep -q '"intermediate_size": "160"' m/config.json || fail "fixture edit"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
