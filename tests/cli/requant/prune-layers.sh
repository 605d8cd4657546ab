# --prune-layers: the pruned blocks are gone, the others renumbered in
# order, <arch>.block_count (u32) set last, the data of kept blocks
# unchanged; the mixture keeps the input's layer count (llama-quantize
# ec562eb). Bad lists and layers the model lacks are usage errors.
. "$SRC/tests/cli/requant/_common.inc"
"$BUILD/fixtures/make_hf" --arch llama --layers 6 --embd 256 --ff 512 --heads 4 --kv-heads 2 m
hf2gguf -q --outtype f16 m -o m.gguf
requant -q --prune-layers 4,1,4 m.gguf p.gguf Q8_0
"$HASHES" m.gguf > m.tsv
"$HASHES" p.gguf > p.tsv
# blocks 0 2 3 5 become 0 1 2 3
for pair in 0:0 2:1 3:2 5:3; do
    o=${pair%:*} n=${pair#*:}
    a=$(awk -v t="blk.$o.attn_norm.weight" '$1 == t { print $4 }' m.tsv)
    b=$(awk -v t="blk.$n.attn_norm.weight" '$1 == t { print $4 }' p.tsv)
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "blk.$o -> blk.$n: $a vs $b"
done
grep -q '^blk\.4\.' p.tsv && fail "blk.4 still there"
[ "$(grep -c '^blk\.' p.tsv)" -eq $(($(grep -c '^blk\.' m.tsv) * 4 / 6)) ] || fail "tensor count"
python3 "$HERE/gguf_kv.py" p.gguf > kv.txt
tail -n 1 kv.txt | grep -q '^llama\.block_count	u32	4$' || fail "block_count: $(tail -n 1 kv.txt)"
# the mixture counts the kept ffn_down tensors (i = 0..3) against the
# input's 6 layers: Q4_K_M gives Q6_K where use_more_bits(i, 6) holds
# (i < 0, i >= 5 or i % 3 == 2), so only at i = 2, the new blk.2
requant -q --prune-layers 1,4 m.gguf q.gguf Q4_K_M
"$HASHES" q.gguf > q.tsv
for l in 0 1 3; do
    grep -q "^blk\.$l\.ffn_down\.weight	Q4_K	" q.tsv || fail "ffn_down $l"
done
grep -q '^blk\.2\.ffn_down\.weight	Q6_K	' q.tsv || fail "ffn_down 2"
# bad input: exit 2, a clear message, no output
for bad in '' 'x' '1,,2' '-1' '1;2' '99999999999'; do
    rc=0
    requant --prune-layers "$bad" m.gguf e.gguf Q8_0 2>err.txt || rc=$?
    [ "$rc" -eq 2 ] || fail "'$bad': exit $rc"
    grep -q 'invalid layer id' err.txt || fail "'$bad': $(cat err.txt)"
done
rc=0
requant --prune-layers 6 m.gguf e.gguf Q8_0 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "layer 6: exit $rc"
grep -q 'layer 6 is not in the model' err.txt || fail "layer 6: $(cat err.txt)"
rc=0
requant --prune-layers 0,1,2,3,4,5 m.gguf e.gguf Q8_0 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "all layers: exit $rc"
grep -q 'every layer' err.txt || fail "all layers: $(cat err.txt)"
assert_no_file e.gguf
