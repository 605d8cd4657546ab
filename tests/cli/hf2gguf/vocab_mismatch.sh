# config.json vocab_size disagrees with the embedding matrices (lm_head comes
# first in sorted-name order, so it is the one named).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --vocab 512 m
sed -i 's/"vocab_size": 512/"vocab_size": 500/' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
