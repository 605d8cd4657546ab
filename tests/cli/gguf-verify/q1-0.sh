# Q1_0 models (requant's 1-bit preset): validate passes and catches a bad
# block scale, hash digests the 18-byte blocks, diff dequantizes them (the
# error of 1-bit signs times the mean |x| is about half the signal).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --embd 128 --ff 256 m.gguf
requant -q m.gguf q1.gguf Q1_0
gguf-verify validate q1.gguf > out.txt || fail "good Q1_0 file failed"
[ "$(cat out.txt)" = "q1.gguf: OK" ] || fail "OK line: $(cat out.txt)"
# hash: the xxh64 of blk.1.attn_v.weight's bytes (128 x 64 values: 64 blocks)
off=$(python3 "$SRC/tests/cli/requant/gguf_kv.py" q1.gguf blk.1.attn_v.weight)
want=$(tail -c +$((off + 1)) q1.gguf | head -c $((64 * 18)) | xxh64sum | cut -d' ' -f1)
gguf-verify hash q1.gguf | grep -qx "xxh64     $want  q1.gguf:blk.1.attn_v.weight" ||
    fail "hash of blk.1.attn_v.weight is not $want"
gguf-verify diff --json m.gguf q1.gguf > diff.json || fail "diff failed"
python3 - <<'PY'
import json
d = json.load(open("diff.json"))
rows = {t["name"]: t for t in d["tensors"]}
t = rows["blk.0.ffn_down.weight"]
assert t["type_b"] == "Q1_0", t
m = t["metrics"]
assert 0.45 < m["rel_err"] < 0.7 and 0.75 < m["cosine"] < 0.9, t
PY
# +Inf scale d of row 2 of blk.0.attn_q.weight (rows of 128: one block each)
off=$(python3 "$SRC/tests/cli/requant/gguf_kv.py" q1.gguf blk.0.attn_q.weight)
printf '\000\174' | dd of=q1.gguf bs=1 seek=$((off + 2 * 18)) conv=notrunc 2>/dev/null
gguf-verify validate q1.gguf > out.txt 2> err.txt && fail "Inf scale passed"
grep -qx "gguf-verify: q1.gguf: tensor 'blk.0.attn_q.weight' row 2 block 0: scale d is not finite (Inf or NaN)" err.txt ||
    fail "scale message: $(cat err.txt)"
