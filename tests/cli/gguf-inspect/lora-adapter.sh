# A GGUF LoRA adapter (hf2gguf --lora): gguf-inspect shows the base
# architecture, alpha, the rank (one, or the range with each pair's), the
# target modules and each pair with its scale alpha/rank; --json gives the
# same as "adapter". A model has no "adapter" object.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch qwen3 base
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" base ad --rank 4 --alpha 8 --targets q_proj,v_proj
hf2gguf -q --lora ad --base base -o ad.gguf
gguf-inspect ad.gguf > out.txt
grep -q '^adapter (lora)$' out.txt || fail "no adapter section: $(cat out.txt)"
grep -Eq '^  base architecture +qwen3$' out.txt || fail "architecture"
grep -Eq '^  alpha +8$' out.txt || fail "alpha"
grep -Eq '^  rank +4$' out.txt || fail "rank"
grep -Eq '^  target modules +attn_q, attn_v$' out.txt || fail "modules"
grep -Eq '^  blk\.1\.attn_v\.weight +4 +2\.0000  64 -> 32$' out.txt || fail "pair line"
grep -q '^experts' out.txt && fail "an adapter has no expert counts"
gguf-inspect --json ad.gguf > out.json
python3 - <<'PY' || fail "json: $(head -c 400 out.json)"
import json
d = json.load(open("out.json"))
a = d["adapter"]
assert a["type"] == "lora" and a["architecture"] == "qwen3" and a["alpha"] == 8.0, a
assert a["rank_min"] == 4 and a["rank_max"] == 4 and a["blocks"] == 2, a
assert a["target_modules"] == ["attn_q", "attn_v"], a
p = a["pairs"]
assert len(p) == 4 and p[0]["weight"] == "blk.0.attn_q.weight", p
assert p[0]["rank"] == 4 and p[0]["scale"] == 2.0 and p[0]["consistent"] is True, p[0]
PY
hf2gguf -q --pre qwen2 base -o base.gguf
gguf-inspect --json base.gguf | python3 -c 'import json,sys; assert "adapter" not in json.load(sys.stdin)' ||
    fail "a model has an adapter object"
echo ok
