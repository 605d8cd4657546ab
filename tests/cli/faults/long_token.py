#!/usr/bin/env python3
"""Copy a GGUF file with token INDEX of tokenizer.ggml.tokens replaced by
LEN bytes of 'a' (the header grows; tensor data moves to the next aligned
offset, tensor offsets being relative to it).
usage: long_token.py IN OUT INDEX LEN   Test helper for faults cases."""
import struct
import sys

FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def main(src, dst, index, length):
    d = open(src, "rb").read()
    pos = 24  # magic, version, tensor count, KV count
    n_t, n_kv = struct.unpack_from("<QQ", d, 8)
    align, cut = 32, None

    def skip_string(p):
        return p + 8 + struct.unpack_from("<Q", d, p)[0]

    def skip_value(t, p):
        if t == 8:
            return skip_string(p)
        if t == 9:
            et, n = struct.unpack_from("<IQ", d, p)
            p += 12
            if et in FIXED:
                return p + n * FIXED[et]
            for _ in range(n):
                p = skip_value(et, p)
            return p
        return p + FIXED[t]

    for _ in range(n_kv):
        klen = struct.unpack_from("<Q", d, pos)[0]
        key = d[pos + 8:pos + 8 + klen].decode()
        pos += 8 + klen
        t = struct.unpack_from("<I", d, pos)[0]
        pos += 4
        if key == "general.alignment":
            align = struct.unpack_from("<I", d, pos)[0]
        if key == "tokenizer.ggml.tokens":
            p = pos + 12
            for _ in range(index):
                p = skip_string(p)
            cut = (p, skip_string(p))
        pos = skip_value(t, pos)
    for _ in range(n_t):
        pos = skip_string(pos)
        nd = struct.unpack_from("<I", d, pos)[0]
        pos += 4 + 8 * nd + 4 + 8
    data = (pos + align - 1) // align * align
    token = struct.pack("<Q", length) + b"a" * length
    head = d[:cut[0]] + token + d[cut[1]:pos]
    head += b"\0" * ((align - len(head) % align) % align)
    open(dst, "wb").write(head + d[data:])


main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
