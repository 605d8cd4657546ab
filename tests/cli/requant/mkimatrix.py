#!/usr/bin/env python3
"""Write an importance matrix for the tensors listed on stdin (lines
'name<TAB>type<TAB>shape...', shape ne0 first) as llama.cpp's legacy .dat
(FORMAT=dat) or GGUF imatrix (FORMAT=gguf). Every 2-D 'blk.*' weight gets
ne0 positive values; the two formats decode to the same numbers.
usage: mkimatrix.py FORMAT OUT [wrong]   ('wrong': one entry has a bad size)
Test helper for requant cases."""
import struct
import sys

COUNT = 4.0  # a power of two: sum / count is exact in both formats


def values(ne0, seed):
    return [0.25 + ((i * 7 + seed * 13) % 17) / 8.0 for i in range(ne0)]


def main(fmt, out, wrong):
    entries = []
    for line in sys.stdin:
        name, _typ, shape = line.split("\t")[:3]
        dims = [int(x) for x in shape.split("x")]
        if name.startswith("blk.") and len(dims) >= 2:
            # 3-D expert tensors: ne0 values per expert, expert-major
            ne0 = dims[0] * (dims[2] if len(dims) > 2 else 1) + (1 if wrong and not entries else 0)
            entries.append((name, values(ne0, len(entries))))
    if fmt == "dat":
        b = bytearray(struct.pack("<i", len(entries)))
        for name, v in entries:
            nb = name.encode()
            b += struct.pack("<i", len(nb)) + nb + struct.pack("<ii", int(COUNT), len(v))
            b += struct.pack("<%df" % len(v), *[x * COUNT for x in v])
        ds = b"test-data.txt"
        b += struct.pack("<ii", 10, len(ds)) + ds
    else:
        def s(x):
            x = x.encode()
            return struct.pack("<Q", len(x)) + x
        kv = s("general.type") + struct.pack("<I", 8) + s("imatrix")
        kv += s("imatrix.datasets") + struct.pack("<IIQ", 9, 8, 1) + s("test-data.txt")
        kv += s("imatrix.chunk_count") + struct.pack("<II", 4, 10)
        kv += s("imatrix.chunk_size") + struct.pack("<II", 4, 512)
        infos, data = bytearray(), bytearray()
        tensors = []
        for name, v in sorted(entries):
            tensors.append((name + ".counts", [1, 1], [COUNT]))
            tensors.append((name + ".in_sum2", [len(v), 1], [x * COUNT for x in v]))
        for tname, ne, vals in tensors:
            infos += s(tname) + struct.pack("<I", 2) + struct.pack("<QQ", *ne)
            infos += struct.pack("<IQ", 0, len(data))
            data += struct.pack("<%df" % len(vals), *vals)
            data += b"\0" * ((-len(data)) % 32)
        b = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 4)) + kv + infos
        b += b"\0" * ((-len(b)) % 32)
        b += data
    with open(out, "wb") as f:
        f.write(b)


main(sys.argv[1], sys.argv[2], len(sys.argv) > 3)
