# --dry-run prints the plan (table or JSON) and writes nothing.
. "$SRC/tests/cli/requant/_common.inc"
requant --dry-run "$REF" Q4_K_M > plan.txt
grep -q '^blk.0.attn_v.weight .* F16 *Q6_K ' plan.txt || fail "attn_v row"
grep -q '^output.weight .* Q6_K ' plan.txt || fail "output row"
grep -q '^total: 9978880 -> 3021824 bytes' plan.txt || fail "totals: $(tail -n1 plan.txt)"
requant --dry-run --json "$REF" out.gguf Q4_K_M > plan.json
assert_no_file out.gguf
[ "$(jq '.tensors | length' plan.json)" = 75 ] || fail "tensor count"
[ "$(jq -r '.tensors[0].name' plan.json)" = output.weight ] || fail "order"
[ "$(jq -r '.type' plan.json)" = Q4_K_M ] || fail "type"
requant -q "$REF" real.gguf Q4_K_M
"$HASHES" real.gguf | awk '{print $2}' > real.types
jq -r '.tensors[].new_type' plan.json > plan.types
cmp real.types plan.types || fail "plan types differ from the real run"
