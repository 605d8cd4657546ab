# Q1_0 of make_gguf models is byte-identical to llama-quantize ec562eb's
# output (xxh64 of whole files, recorded from that build). Rows of 128:
# output.weight takes Q6_K, which does not fit and falls back to Q8_0; rows
# of 384 (a multiple of 128, not of 256): the same; all else Q1_0.
. "$SRC/tests/cli/lib.sh"
HASHES="$BUILD/fixtures/tensor_hashes"
check() { # name want make_gguf-args...
    name=$1 want=$2
    shift 2
    "$BUILD/fixtures/make_gguf" "$@" $name.gguf
    requant -q $name.gguf $name-q1.gguf Q1_0
    [ "$(xxh64sum $name-q1.gguf | cut -d' ' -f1)" = $want ] || fail "$name: not llama-quantize's bytes"
    "$HASHES" $name-q1.gguf > $name.tsv
    grep -q '^output.weight	Q8_0	' $name.tsv || fail "$name: output.weight is not Q8_0"
    [ "$(awk '$2 == "Q1_0"' $name.tsv | wc -l)" = 15 ] || fail "$name: Q1_0 tensors"
}
check e128 0c18782980659af2 --embd 128 --ff 256
check e384 1493f491fb322bf4 --embd 384 --ff 512 --heads 6 --kv-heads 2
# Tied embeddings (gemma3 has no output.weight): token_embd takes the output
# rule, Q6_K. The digest holds for this hf2gguf input; if hf2gguf's output
# changes, re-record it with llama-quantize ec562eb.
"$BUILD/fixtures/make_hf" --arch gemma3 --tied --embd 256 --ff 512 --heads 4 --kv-heads 2 --head-dim 128 \
    g3 > /dev/null
hf2gguf -q --outtype f16 g3 -o g3.gguf
[ "$(xxh64sum g3.gguf | cut -d' ' -f1)" = 33d36ac7664d46ff ] || fail "hf2gguf's gemma3 input changed"
requant -q g3.gguf g3-q1.gguf Q1_0
[ "$(xxh64sum g3-q1.gguf | cut -d' ' -f1)" = a4bdd72b80d1b7fd ] || fail "g3: not llama-quantize's bytes"
"$HASHES" g3-q1.gguf | grep -q '^token_embd.weight	Q6_K	' || fail "tied token_embd is not Q6_K"
