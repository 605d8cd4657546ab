# Mixture-of-experts model: 3-D expert tensors (layer from the name, one
# imatrix slice per expert), output independent of -j.
. "$SRC/tests/cli/requant/_common.inc"
python3 "$HERE/mkmoe.py" moe.gguf
requant -q -j 1 moe.gguf a.gguf Q4_K_M
requant -q -j 4 moe.gguf b.gguf Q4_K_M
cmp a.gguf b.gguf || fail "-j 1 and -j 4 differ"
"$HASHES" a.gguf > a.tsv
grep -q '^blk.1.ffn_down_exps.weight	Q6_K	256x256x4	' a.tsv || fail "ffn_down_exps layer 1"
grep -q '^blk.0.ffn_down_exps.weight	Q4_K	' a.tsv || fail "ffn_down_exps layer 0"
grep -q '^blk.0.ffn_gate_inp.weight	F16	' a.tsv || fail "router must stay F16"
# an imatrix whose expert 2 slice differs changes only expert 2's bytes
python3 - <<'PY'
import struct
def dat(path, special):
    ents = []
    for l in range(2):
        for w in ("ffn_up_exps", "ffn_gate_exps", "ffn_down_exps"):
            v = []
            for x in range(4):
                v += [(3.0 if (x == 2 and special and (j % 3 == 0)) else 1.0) for j in range(256)]
            ents.append(("blk.%d.%s.weight" % (l, w), v))
    b = struct.pack("<i", len(ents))
    for n, v in ents:
        b += struct.pack("<i", len(n)) + n.encode() + struct.pack("<ii", 1, len(v))
        b += struct.pack("<%df" % len(v), *v)
    open(path, "wb").write(b)
dat("flat.dat", False)
dat("x2.dat", True)
PY
requant -q -j 3 --imatrix flat.dat moe.gguf f.gguf IQ4_XS
requant -q -j 1 --imatrix x2.dat moe.gguf x.gguf IQ4_XS
fo=$(python3 "$HERE/gguf_kv.py" f.gguf blk.1.ffn_up_exps.weight)
xo=$(python3 "$HERE/gguf_kv.py" x.gguf blk.1.ffn_up_exps.weight)
slab=$((256 * 136 / 256 * 256)) # 256 rows of 256 IQ4_XS values (136 bytes)
for e in 0 1 2 3; do
    a=$(tail -c +$((fo + e * slab + 1)) f.gguf | head -c $slab | md5sum)
    b=$(tail -c +$((xo + e * slab + 1)) x.gguf | head -c $slab | md5sum)
    if [ "$e" = 2 ]; then
        [ "$a" != "$b" ] || fail "expert 2 ignored its imatrix slice"
    else
        [ "$a" = "$b" ] || fail "expert $e changed with expert 2's slice"
    fi
done
