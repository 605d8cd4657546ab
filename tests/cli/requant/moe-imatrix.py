#!/usr/bin/env python3
"""Write a GGUF importance matrix, as llama-imatrix (ec562eb) lays it out,
for the tensors listed on stdin (tensor_hashes lines 'name<TAB>type<TAB>
ne0xne1[xne2]<TAB>hash'): for every 'blk.*' weight of 2 or more dims,
NAME.in_sum2 {ne0, n_mat} and NAME.counts {1, n_mat} (F32), n_mat = ne2 for
3-D expert tensors, else 1. Each expert gets its own values and token
count; in every 3-D tensor expert 1 has count 0 (never routed during
calibration: llama-quantize then uses 1.0 for its columns). Deterministic.
usage: moe-imatrix.py OUT.gguf < table.tsv   (test helper for requant/moe-*)"""
import struct
import sys


def s(x):
    x = x.encode()
    return struct.pack("<Q", len(x)) + x


def main(out):
    entries = []
    for line in sys.stdin:
        name, _typ, shape = line.rstrip("\n").split("\t")[:3]
        dims = [int(x) for x in shape.split("x")]
        if not name.startswith("blk.") or not name.endswith(".weight") or len(dims) < 2:
            continue
        ne0, n_mat = dims[0], dims[2] if len(dims) > 2 else 1
        sums, counts = [], []
        for e in range(n_mat):
            c = 0.0 if (n_mat > 1 and e == 1) else float(3 + (e * 5 + len(entries)) % 11)
            counts.append(c)
            for i in range(ne0):
                v = 0.05 + ((i * 37 + e * 101 + len(entries) * 7) % 97) / 16.0
                sums.append(v * c)
        entries.append((name, ne0, n_mat, sums, counts))
    kv = s("general.type") + struct.pack("<I", 8) + s("imatrix")
    kv += s("imatrix.datasets") + struct.pack("<IIQ", 9, 8, 1) + s("moe-calibration.txt")
    kv += s("imatrix.chunk_count") + struct.pack("<II", 4, 16)
    kv += s("imatrix.chunk_size") + struct.pack("<II", 4, 512)
    tensors = []
    for name, ne0, n_mat, sums, counts in sorted(entries):
        tensors.append((name + ".counts", [1, n_mat], counts))
        tensors.append((name + ".in_sum2", [ne0, n_mat], sums))
    infos, data = bytearray(), bytearray()
    for tname, ne, vals in tensors:
        infos += s(tname) + struct.pack("<I", 2) + struct.pack("<QQ", *ne)
        infos += struct.pack("<IQ", 0, len(data))
        data += struct.pack("<%df" % len(vals), *vals)
        data += b"\0" * ((-len(data)) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 4) + kv + infos
    head += b"\0" * ((-len(head)) % 32)
    with open(out, "wb") as f:
        f.write(head + data)


main(sys.argv[1])
