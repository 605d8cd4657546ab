#!/usr/bin/env python3
"""Write a GGUF with the layout of one of ../shared's convert-2026 MoE
goldens (what convert_hf_to_gguf.py ec562eb wrote for that family): the
tensor names, types and order of NAME.f16.tensors.tsv, every dimension of a
*.weight but ne2 (experts, heads) and 1 times 16 (so rows are
multiples of 256 and the K types apply), the vocabulary cut to 512, the
scalar metadata of NAME.f16.meta.tsv (tokenizer keys replaced by a
512-token list). Weights are deterministic pseudo-random bytes (SHA-256 in
counter mode) with F16 exponents kept small, MXFP4 block scales near 1 and
norms 1.0. usage: moe-family.py META.tsv TENSORS.tsv OUT.gguf
Test helper for requant/moe-families.sh."""
import hashlib
import struct
import sys

SCALE, N_VOCAB = 16, 512
TYPES = {"F32": (0, 1, 4), "F16": (1, 1, 2), "BF16": (30, 1, 2), "MXFP4": (39, 32, 17)}


def s(x):
    x = x.encode()
    return struct.pack("<Q", len(x)) + x


def stream(name, n):
    out = bytearray()
    seed = name.encode()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed + struct.pack("<Q", i)).digest()
        i += 1
    return out[:n]


# F16 high byte: keep sign and 2 mantissa bits, exponent 8..11 (|x| < 2^-3)
F16_HI = bytes((b & 0x83) | ((8 + ((b >> 2) & 3)) << 2) for b in range(256))
# BF16 high byte: sign, exponent 0x78..0x7B >> 1 region (|x| around 2^-7..2^-4)
BF16_HI = bytes((b & 0x80) | 0x3C | ((b >> 2) & 1) for b in range(256))


def data_for(name, ty, ne):
    n = 1
    for d in ne:
        n *= d
    if ty == "F32":
        if len(ne) == 1 and name.endswith("norm.weight"):
            return struct.pack("<%df" % n, *([1.0] * n))
        raw = stream(name, 2 * n)
        return struct.pack("<%df" % n, *[(raw[2 * i] - 128) / 2048.0 for i in range(n)])
    if ty in ("F16", "BF16"):
        raw = stream(name, 2 * n)
        raw[1::2] = bytes(raw[1::2]).translate(F16_HI if ty == "F16" else BF16_HI)
        return raw
    raw = stream(name, n // 32 * 17)  # MXFP4: e8m0 scale byte + 16 nibble bytes
    raw[0::17] = bytes(118 + (b & 7) for b in raw[0::17])
    return raw


def main(meta, tens, out):
    kvs = []
    for line in open(meta, encoding="utf-8"):
        k, t, v = line.rstrip("\n").split("\t", 2)
        if k.startswith("tokenizer."):
            continue
        if t == "STRING":
            kvs.append(s(k) + struct.pack("<I", 8) + s(eval(v)))  # a JSON-style quoted string
        elif t == "UINT32":
            kvs.append(s(k) + struct.pack("<II", 4, int(v)))
        elif t == "INT32":
            kvs.append(s(k) + struct.pack("<Ii", 5, int(v)))
        elif t == "FLOAT32":
            kvs.append(s(k) + struct.pack("<If", 6, float(v)))
        elif t == "BOOL":
            kvs.append(s(k) + struct.pack("<IB", 7, v == "True"))
    kvs.append(s("tokenizer.ggml.model") + struct.pack("<I", 8) + s("gpt2"))
    kvs.append(s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, N_VOCAB) +
               b"".join(s("t%d" % i) for i in range(N_VOCAB)))
    rows = [l.rstrip("\n").split("\t") for l in open(tens, encoding="utf-8")]
    infos, data = bytearray(), bytearray()
    for name, ty, shape, _ in rows:
        ne = []
        for i, d in enumerate(int(x) for x in shape.split("x")):
            keep = i == 2 or d == 1 or not name.endswith(".weight")  # biases, sinks as they are
            ne.append(N_VOCAB if d > 100000 else d if keep else d * SCALE)
        infos += s(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        infos += struct.pack("<IQ", TYPES[ty][0], len(data))
        data += data_for(name, ty, ne)
        data += b"\0" * ((-len(data)) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(rows), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * ((-len(head)) % 32)
    with open(out, "wb") as f:
        f.write(head + data)


main(*sys.argv[1:4])
