# A llama max_position_embeddings past u32 (an optional key of the shared
# block, written as a u32 when present): exit 2 naming it, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama m
sed -i 's/"max_position_embeddings": 2048,/"max_position_embeddings": 5000000000,/' m/config.json
grep -q '"max_position_embeddings": 5000000000' m/config.json || fail "fixture edit"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
