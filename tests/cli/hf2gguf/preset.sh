# hf2gguf --outtype PRESET writes, in one pass, exactly the bytes of
# hf2gguf --outtype f16 followed by requant with that preset (tensor order,
# KV order, mixture and imatrix keys included).
. "$SRC/tests/cli/lib.sh"
need_shared
mkdir tiny-llama-bf16
cp "$SHARED"/fixtures/hf-tiny-llama-bf16/* tiny-llama-bf16/
hf2gguf -q --outtype f16 -o f16.gguf tiny-llama-bf16
# requant:Q8_0 is the preset, not the converter's q8_0 (mixture, order, KVs)
for p in Q4_K_M IQ4_XS requant:Q8_0; do
    n=${p#requant:}
    requant -q f16.gguf "two-$n.gguf" "$n"
    hf2gguf -q --outtype "$p" -o "one-$n.gguf" tiny-llama-bf16
    cmp "one-$n.gguf" "two-$n.gguf" || fail "$p: one pass differs from f16 + requant"
done
hf2gguf -q --outtype q8_0 -o conv-q8.gguf tiny-llama-bf16
cmp -s conv-q8.gguf one-Q8_0.gguf && fail "requant:Q8_0 should differ from the converter's q8_0"
# n_embd 256: the K-quants proper (no fallback), with an imatrix, -j 1
"$BUILD/fixtures/make_hf" --embd 256 --ff 512 --heads 4 --kv-heads 2 --layers 2 wide >/dev/null
hf2gguf -q --outtype f16 -o wide-f16.gguf wide
"$BUILD/fixtures/tensor_hashes" wide-f16.gguf > wide.tsv
python3 "$SRC/tests/cli/requant/mkimatrix.py" dat im.dat < wide.tsv
for p in Q4_K_M Q6_K; do
    requant -q --imatrix im.dat wide-f16.gguf "wide-two-$p.gguf" "$p"
    hf2gguf -q -j 1 --imatrix im.dat --outtype "$p" -o "wide-one-$p.gguf" wide
    cmp "wide-one-$p.gguf" "wide-two-$p.gguf" || fail "wide $p: one pass differs"
done
"$BUILD/fixtures/tensor_hashes" wide-one-Q4_K_M.gguf | grep -q '^blk.0.attn_q.weight	Q4_K	' ||
    fail "wide Q4_K_M: attn_q should be Q4_K"
# the dry run names the preset's types; an imatrix preset without one fails
hf2gguf --dry-run --outtype Q4_K_M -o x.gguf wide | grep -q '^blk.0.attn_q.weight	Q4_K	' ||
    fail "dry run"
[ ! -e x.gguf ] || fail "dry run wrote a file"
if hf2gguf -q --outtype IQ2_XXS -o y.gguf wide 2>err.txt; then fail "IQ2_XXS without imatrix"; fi
grep -q 'needs an importance matrix' err.txt || fail "IQ2_XXS message"
if hf2gguf -q --imatrix im.dat --outtype f16 -o y.gguf wide 2>/dev/null; then
    fail "--imatrix without a preset"
fi
echo ok
