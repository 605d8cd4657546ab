# --report writes per-tensor metrics; the summary names the ten worst tensors.
. "$SRC/tests/cli/requant/_common.inc"
requant --report rep.json "$REF" out.gguf Q4_K_M 2>err.txt
[ "$(jq '.tensors | length' rep.json)" = 75 ] || fail "tensor count"
[ "$(jq '[.tensors[] | select(.rmse != null)] | length' rep.json)" = 58 ] || fail "measured count"
jq -e '.tensors[] | select(.name == "blk.0.attn_v.weight") | .rel_err > 0 and .rel_err < 0.1 and .snr_db > 10' rep.json >/dev/null || fail "attn_v metrics"
jq -e '.tensors[] | select(.name == "output_norm.weight") | has("rmse") | not' rep.json >/dev/null || fail "copied tensor has metrics"
[ "$(jq '.bytes_out' rep.json)" -lt "$(stat -c %s out.gguf)" ] || fail "bytes_out"
grep -q 'worst tensors by relative error' err.txt || fail "no summary"
[ "$(grep -c '^requant:   blk\.\|^requant:   output\|^requant:   token' err.txt)" = 10 ] || fail "ten worst"
# report on stdout, output to a file
requant -q --report - "$REF" out2.gguf Q8_0 | jq -e '.type == "Q8_0"' >/dev/null || fail "report to stdout"
# the metrics do not depend on the thread count
requant -q -j 1 --report r1.json "$REF" o1.gguf Q4_K_M
requant -q -j 3 --report r3.json "$REF" o3.gguf Q4_K_M
jq -S '.tensors' r1.json > t1.json
jq -S '.tensors' r3.json > t3.json
cmp t1.json t3.json || fail "metrics depend on -j"
