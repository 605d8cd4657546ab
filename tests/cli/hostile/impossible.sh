# Files whose values are impossible are refused (exit 2) naming the key:
# a GGUF bool that is not 0 or 1 (scalar and array), split.count 0, an
# imatrix naming a tensor twice, and config.json values (a fractional
# size, a negative layer count, negative rope base or epsilon, a zero rope
# factor, a fractional size inside text_config) for hf2gguf and for
# gguf-inspect on the directory. A BOS or EOS id outside the vocabulary is
# refused (ec562eb's SpecialVocab skips it with a warning, leaving a model
# that cannot start or stop as trained); other special ids are skipped with
# upstream's warning.
. "$SRC/tests/cli/hostile/_hostile.inc"
$MK gguf-bad-bool bool.gguf
gguf_refused "key 'x.flag': bool value 2 is not 0 or 1" bool.gguf
$MK gguf-bad-bool-array bools.gguf
gguf_refused "key 'x.flags': bool value 255 is not 0 or 1" bools.gguf
$MK gguf-split-count-0 count0.gguf
refused "split.count 0 is out of range" out.txt gguf-inspect count0.gguf
refused "split.count 0 is out of range" out.gguf requant count0.gguf out.gguf Q8_0

"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 m.gguf
python3 - <<'PY'
import struct
def entry(name, vals):
    return (struct.pack("<i", len(name)) + name + struct.pack("<ii", 1, len(vals))
            + struct.pack("<%df" % len(vals), *vals))
w = b"blk.0.attn_q.weight"
open("dup.dat", "wb").write(struct.pack("<i", 2) + entry(w, [1.0] * 64) + entry(w, [2.0] * 64))
PY
refused "dup.dat: entry 'blk.0.attn_q.weight' appears twice" out.gguf requant --imatrix dup.dat \
    m.gguf out.gguf Q4_K_M

mkhf() {
    rm -rf c
    "$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
        --kv-heads 1 --vocab 300 --ctx 64 c >/dev/null
    python3 -c 'import json, sys
c = json.load(open("c/config.json"))
c.update(json.loads("{" + sys.argv[1] + "}"))
json.dump(c, open("c/config.json", "w"))' "$1"
}
while IFS='|' read -r kv pat; do
    mkhf "$kv"
    refused "c/config.json: $pat" out.gguf hf2gguf c -o out.gguf
    refused "c/config.json: $pat" out.txt gguf-inspect c
done <<'LIST'
"hidden_size": 16.5|'hidden_size' = 16.5 is not a whole number
"num_hidden_layers": -1|'num_hidden_layers' = -1 is negative
"rope_theta": -10000.0|'rope_theta' = -10000 is not positive
"rms_norm_eps": -1e-5|'rms_norm_eps' = -1e-05 is negative
"rope_scaling": {"rope_type": "linear", "factor": 0}|'factor' = 0 is not positive
"text_config": {"vocab_size": 300.5}|'vocab_size' = 300.5 is not a whole number
LIST

for kv in '"bos_token_id": 99999|bos token id 99999' '"eos_token_id": 300|eos token id 300'; do
    mkhf "${kv%%|*}"
    refused "c/config.json: ${kv#*|} is outside the vocabulary (300 tokens)" out.gguf hf2gguf c -o out.gguf
    refused "c/config.json: ${kv#*|} is outside the vocabulary (300 tokens)" out.txt gguf-inspect c
done
# upstream skips any other special token id outside the vocabulary, with a warning
mkhf '"pad_token_id": 99999'
hf2gguf c -o out.gguf 2> err.txt || fail "pad_token_id 99999: $(cat err.txt)"
grep -q "special token type pad, id 99999 out of range, must be under 300 - skipping" err.txt ||
    fail "warning: $(cat err.txt)"
gguf-inspect --full out.gguf | grep -q "tokenizer.ggml.padding_token_id" && fail "pad id written"
true
