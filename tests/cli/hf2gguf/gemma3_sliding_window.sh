# gemma3 writes attention.sliding_window unless sliding_window_pattern is 1:
# without sliding_window the config is refused (exit 2) naming the key; with
# pattern 1 it converts without the key.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma3 m
sed -i '/"sliding_window":/d' m/config.json
sed 's/"sliding_window_pattern": 6/"sliding_window_pattern": 1/' m/config.json > c1.json
hf2gguf -q m -o out.gguf 2>err && fail "converted without sliding_window"
assert_no_file out.gguf
cp c1.json m/config.json
hf2gguf -q m -o one.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" one.gguf meta.tsv tensors.tsv
grep -q 'sliding_window' meta.tsv && fail "pattern 1 wrote a sliding window"
cat err >&2
