# Per-expert imatrix entries that do not fit are refused with exit 2 and no
# output: an entry for a 3-D expert tensor with one matrix ({ne0, 1}, as
# for a dense weight) instead of one per expert (llama-quantize ec562eb on
# the same imatrix for a make_gguf 8-expert model: "imatrix size 256 is
# different from tensor size 2048"), and a .counts tensor without its
# .in_sum2 (llama-quantize: "mismatched sums and counts").
. "$SRC/tests/cli/lib.sh"
HERE="$SRC/tests/cli/requant"
python3 "$HERE/mkmoe.py" moe.gguf
"$BUILD/fixtures/tensor_hashes" moe.gguf > moe.tsv
# the expert tensors listed as 2-D: one matrix each
sed 's/^\(blk\.[0-9]*\.ffn_up_exps\.weight\t[^\t]*\t[0-9]*x[0-9]*\)x[0-9]*/\1/' moe.tsv > flat.tsv
python3 "$HERE/moe-imatrix.py" flat.gguf < flat.tsv
rc=0
requant -q --imatrix flat.gguf moe.gguf out.gguf IQ4_XS 2>err.txt || rc=$?
[ $rc = 2 ] || fail "one matrix for 4 experts: exit $rc"
grep -q "imatrix entry for 'blk.0.ffn_up_exps.weight' has 256 values, the tensor needs 1024" err.txt ||
    fail "$(cat err.txt)"
assert_no_file out.gguf
# a counts tensor without its sums
python3 - <<'PY'
import struct
def s(x):
    x = x.encode()
    return struct.pack("<Q", len(x)) + x
kv = s("imatrix.datasets") + struct.pack("<IIQ", 9, 8, 1) + s("d.txt")
kv += s("imatrix.chunk_count") + struct.pack("<II", 4, 1) + s("imatrix.chunk_size") + struct.pack("<II", 4, 512)
names = [("blk.0.ffn_up_exps.weight.counts", [1, 4]), ("blk.0.ffn_up_exps.weight.in_sum2", [256, 4]),
         ("blk.1.ffn_up_exps.weight.counts", [1, 4])]
infos, data = b"", b""
for n, ne in names:
    infos += s(n) + struct.pack("<IQQIQ", 2, ne[0], ne[1], 0, len(data))
    data += struct.pack("<%df" % (ne[0] * ne[1]), *([1.0] * (ne[0] * ne[1])))
    data += b"\0" * ((-len(data)) % 32)
head = b"GGUF" + struct.pack("<IQQ", 3, len(names), 3) + kv + infos
head += b"\0" * ((-len(head)) % 32)
open("orphan.gguf", "wb").write(head + data)
PY
rc=0
requant -q --imatrix orphan.gguf moe.gguf out.gguf IQ4_XS 2>err.txt || rc=$?
[ $rc = 2 ] || fail "orphan counts: exit $rc"
grep -q "orphan.gguf: .*'blk.1.ffn_up_exps.weight.counts' has no 'blk.1.ffn_up_exps.weight.in_sum2'" err.txt ||
    fail "$(cat err.txt)"
assert_no_file out.gguf
