#!/usr/bin/env python3
"""Print the metadata of a GGUF file, one 'key<TAB>type<TAB>value' line per
KV in file order (arrays as '[N x type]'); with a tensor name as second
argument, print the absolute file offset of that tensor's data instead.
Test helper for requant cases."""
import struct
import sys

NAMES = {0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32", 7: "bool",
         8: "str", 9: "arr", 10: "u64", 11: "i64", 12: "f64"}
FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
       11: "<q", 12: "<d"}


def main(path):
    with open(path, "rb") as f:
        d = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, d, pos)[0]
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("<Q")
        s = d[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et = take("<I")
            n = take("<Q")
            for _ in range(n):
                value(et)
            return "[%d x %s]" % (n, NAMES[et])
        return take(FMT[t])

    assert d[:4] == b"GGUF"
    pos = 4
    version = take("<I")
    n_t = take("<Q")
    n_kv = take("<Q")
    lines = ["version\t%d\t%d tensors" % (version, n_t)]
    align = 32
    for _ in range(n_kv):
        k = string()
        t = take("<I")
        v = value(t)
        if k == "general.alignment":
            align = v
        lines.append("%s\t%s\t%s" % (k, NAMES[t], v))
    offsets = {}
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        for _ in range(nd):
            take("<Q")
        take("<I")
        offsets[name] = take("<Q")
    data = (pos + align - 1) // align * align
    if len(sys.argv) > 2:  # absolute offset of a tensor's data
        print(data + offsets[sys.argv[2]])
    else:
        print("\n".join(lines))


main(sys.argv[1])
