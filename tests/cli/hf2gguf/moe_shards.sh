# Experts spread over shards: a 4-shard mixtral checkpoint (an expert's w1,
# w2 and w3 and the experts of one block in different files) converts to
# the same tensors, byte for byte, as the single-file one, in bf16 and
# q8_0; only the order may differ (the converter's: file by file). The
# stacks' page release spans one shard's mapping at a time (formats/stack).
. "$SRC/tests/cli/lib.sh"
shape="--arch mixtral --layers 2 --embd 64 --ff 128 --vocab 320 --experts 6 --seed 3"
# shellcheck disable=SC2086 # $shape is a list of options
"$BUILD/fixtures/make_hf" $shape one > /dev/null
# shellcheck disable=SC2086
"$BUILD/fixtures/make_hf" $shape --shards 4 four > /dev/null
[ -f four/model-00004-of-00004.safetensors ] || fail "make_hf wrote no 4 shards"
for t in bf16 q8_0; do
    hf2gguf -q --model-name M --outtype $t one -o one.gguf
    hf2gguf -q --model-name M --outtype $t four -o four.gguf
    "$BUILD/fixtures/tensor_hashes" one.gguf | sort > one.tsv
    "$BUILD/fixtures/tensor_hashes" four.gguf | sort > four.tsv
    grep -q 'blk.1.ffn_down_exps.weight	[^	]*	128x64x6	' one.tsv || fail "$t: no {128, 64, 6} stack"
    diff one.tsv four.tsv >&2 || fail "$t: the sharded checkpoint's tensors differ"
    rm one.gguf four.gguf
done
echo ok
