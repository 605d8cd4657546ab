#!/usr/bin/env python3
"""Write hostile model files for the tests/cli/hostile cases.

usage: mkhostile.py KIND OUT
       mkhostile.py gguf-cuts OUTDIR   (a valid GGUF cut at every header field)

Every file is small (a few KB at most): the hostility is in what the
headers claim, not in their size. Test helper, not part of ggufkit."""
import struct
import sys
import zipfile

GGUF_U8, GGUF_U16, GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL = 0, 2, 4, 5, 6, 7
GGUF_STR, GGUF_ARR, GGUF_U64 = 8, 9, 10
F32 = 0
BIG = 1 << 60


def s(b):
    return struct.pack("<Q", len(b)) + b


class G:
    """A GGUF v3 file built field by field; cuts records every field edge."""

    def __init__(self):
        self.b = bytearray()
        self.cuts = []

    def put(self, data):
        self.b += data
        self.cuts.append(len(self.b))

    def header(self, n_tensors, n_kv, version=3):
        self.put(b"GGUF")
        self.put(struct.pack("<I", version))
        self.put(struct.pack("<Q", n_tensors))
        self.put(struct.pack("<Q", n_kv))

    def kv_str(self, key, val):
        self.put(struct.pack("<Q", len(key)))
        self.put(key)
        self.put(struct.pack("<I", GGUF_STR))
        self.put(struct.pack("<Q", len(val)))
        self.put(val)

    def kv_u32(self, key, val):
        self.put(s(key))
        self.put(struct.pack("<II", GGUF_U32, val))

    def kv_raw(self, key, typ, raw):
        self.put(s(key))
        self.put(struct.pack("<I", typ))
        self.put(raw)

    def tensor(self, name, ne, typ=F32, off=0):
        self.put(struct.pack("<Q", len(name)))
        self.put(name)
        self.put(struct.pack("<I", len(ne)))
        for n in ne:
            self.put(struct.pack("<Q", n))
        self.put(struct.pack("<I", typ))
        self.put(struct.pack("<Q", off))

    def data(self, nbytes, align=32):
        self.b += b"\0" * ((-len(self.b)) % align)
        self.b += bytes((i * 7) & 255 for i in range(nbytes))


def valid():
    g = G()
    g.header(2, 3)
    g.kv_str(b"general.architecture", b"llama")
    g.kv_u32(b"general.alignment", 32)
    g.kv_raw(b"tokenizer.ggml.tokens", GGUF_ARR,
             struct.pack("<IQ", GGUF_STR, 2) + s(b"a") + s(b"b"))
    g.tensor(b"token_embd.weight", [8, 2])
    g.tensor(b"output_norm.weight", [8], off=64)
    g.data(96)
    return g


def gguf(kind):
    g = G()
    if kind == "gguf-many-tensors":
        g.header(BIG, 0)
    elif kind == "gguf-many-kv":
        g.header(0, BIG)
    elif kind == "gguf-huge-key":
        g.header(0, 1)
        g.put(struct.pack("<Q", BIG) + b"general.name")
    elif kind == "gguf-huge-string":
        g.header(0, 1)
        g.put(s(b"general.name") + struct.pack("<IQ", GGUF_STR, BIG) + b"x" * 16)
    elif kind == "gguf-huge-array":
        g.header(0, 1)
        g.kv_raw(b"tokenizer.ggml.scores", GGUF_ARR, struct.pack("<IQ", GGUF_F32, BIG) + b"\0" * 64)
    elif kind == "gguf-huge-string-array":
        g.header(0, 1)
        g.kv_raw(b"tokenizer.ggml.tokens", GGUF_ARR, struct.pack("<IQ", GGUF_STR, BIG) + s(b"a"))
    elif kind == "gguf-nested-arrays":
        # 10000 arrays, each holding the next: far beyond any sane depth
        raw = b"".join(struct.pack("<IQ", GGUF_ARR, 1) for _ in range(10000))
        g.header(0, 1)
        g.kv_raw(b"x.nested", GGUF_ARR, raw + struct.pack("<IQ", GGUF_U8, 1) + b"\1")
    elif kind == "gguf-huge-elements":
        g.header(1, 0)
        g.tensor(b"w", [1 << 31, 1 << 31, 1 << 31, 1 << 31])
        g.data(64)
    elif kind == "gguf-bad-dims":
        g.header(1, 0)
        g.tensor(b"w", [2, 2, 2, 2, 2])
        g.data(64)
    elif kind == "gguf-bad-type":
        g.header(1, 0)
        g.tensor(b"w", [32], typ=9999)
        g.data(128)
    elif kind == "gguf-past-end":
        g.header(1, 0)
        g.tensor(b"w", [1024])
        g.data(32)
    elif kind == "gguf-far-offset":
        g.header(1, 0)
        g.tensor(b"w", [8], off=1 << 40)
        g.data(32)
    elif kind == "gguf-overlap":
        g.header(2, 0)
        g.tensor(b"a", [16])
        g.tensor(b"b", [16], off=32)
        g.data(64)
    elif kind == "gguf-dup-tensor":
        g.header(2, 0)
        g.tensor(b"a", [8])
        g.tensor(b"a", [8], off=32)
        g.data(64)
    elif kind == "gguf-dup-key":
        g.header(0, 2)
        g.kv_u32(b"general.alignment", 32)
        g.kv_u32(b"general.alignment", 32)
    elif kind == "gguf-bad-alignment":
        g.header(1, 1)
        g.kv_u32(b"general.alignment", 3)
        g.tensor(b"a", [8])
        g.data(32)
    elif kind == "gguf-bomb-tensor":
        # header only: one 512 MiB F32 tensor whose zeros the test appends
        g.header(1, 0)
        g.tensor(b"w", [1 << 27])
        g.b += b"\0" * ((-len(g.b)) % 32)
    elif kind == "gguf-bomb-string":
        # header only: a 64 MiB string value whose bytes the test appends
        g.header(0, 1)
        g.put(s(b"general.name") + struct.pack("<IQ", GGUF_STR, 1 << 26))
    elif kind == "gguf-bad-version":
        g.header(0, 0, version=99)
    elif kind == "gguf-bad-bool":
        g.header(0, 1)
        g.kv_raw(b"x.flag", GGUF_BOOL, b"\2")
    elif kind == "gguf-bad-bool-array":
        g.header(0, 1)
        g.kv_raw(b"x.flags", GGUF_ARR, struct.pack("<IQ", GGUF_BOOL, 3) + b"\0\1\xff")
    elif kind == "gguf-split-count-0":
        # a valid model whose split.* keys claim a set of no files
        g.header(2, 6)
        g.kv_str(b"general.architecture", b"llama")
        g.kv_u32(b"general.alignment", 32)
        g.kv_raw(b"split.no", GGUF_U16, b"\0\0")
        g.kv_raw(b"split.count", GGUF_U16, b"\0\0")
        g.kv_raw(b"split.tensors.count", GGUF_I32, struct.pack("<i", 2))
        g.kv_raw(b"tokenizer.ggml.tokens", GGUF_ARR,
                 struct.pack("<IQ", GGUF_STR, 2) + s(b"a") + s(b"b"))
        g.tensor(b"token_embd.weight", [8, 2])
        g.tensor(b"output_norm.weight", [8], off=64)
        g.data(96)
    elif kind == "gguf-escapes":
        # terminal escape sequences in the architecture, a key, a value and
        # a tensor name (all valid UTF-8)
        g.header(1, 3)
        g.kv_str(b"general.architecture", b"\x1b[31mevil")
        g.kv_str(b"x.\x1b]0;title\x07", b"v\x1b[2Jv")
        g.kv_str(b"general.name", b"n\x1b[5mn")
        g.tensor(b"w\x1b[1mw", [8])
        g.data(32)
    elif kind == "gguf-bad-kv-type":
        g.header(0, 1)
        g.kv_raw(b"x.y", 77, b"\0" * 8)
    else:
        raise SystemExit("unknown kind " + kind)
    return bytes(g.b)


def st(header, data=b"", hlen=None):
    h = header.encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def safetensors(kind):
    t = '"%s":{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}'
    if kind == "st-4g-header":
        return st('{"a":{}}', hlen=1 << 32)
    if kind == "st-huge-header":
        return st('{"a":{}}', hlen=(1 << 63) + 5)
    if kind == "st-overlap":
        return st("{" + t % ("a", "[4]", 0, 16) + "," + t % ("b", "[4]", 8, 24) + "}", b"\0" * 24)
    if kind == "st-past-end":
        return st("{" + t % ("a", "[4]", 0, 16) + "}", b"\0" * 8)
    if kind == "st-huge-shape":
        return st("{" + t % ("a", "[4294967296,4294967296,16]", 0, 16) + "}", b"\0" * 16)
    if kind == "st-size-mismatch":
        return st("{" + t % ("a", "[5]", 0, 16) + "}", b"\0" * 16)
    if kind == "st-not-json":
        return st('{"a":{"dtype":"F32",', b"\0" * 16)
    raise SystemExit("unknown kind " + kind)


def pickle_zip(kind):
    # protocol 2: PROTO 2, GLOBAL module\nname\n, argument tuple, REDUCE, STOP
    if kind == "pkl-os-system":
        body = b"cos\nsystem\nX\x02\x00\x00\x00id\x85R."
    elif kind == "pkl-eval":
        body = b"cbuiltins\neval\nX\x03\x00\x00\x001+1\x85R."
    elif kind == "pkl-posix":
        body = b"cposix\nsystem\nX\x02\x00\x00\x00id\x85R."
    elif kind == "pkl-getattr":
        body = b"c__builtin__\ngetattr\n."
    elif kind == "pkl-subprocess":
        body = b"csubprocess\nPopen\n."
    else:
        raise SystemExit("unknown kind " + kind)
    return b"\x80\x02" + body


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "gguf-cuts":
        g = valid()
        # every field edge, one byte into each field, and the data section
        cuts = sorted(set(c for e in g.cuts for c in (e - 1, e) if 0 <= e - 1) | {len(g.b) - 1})
        for c in cuts:
            if c < len(g.b):
                with open("%s/cut-%04d.gguf" % (out, c), "wb") as f:
                    f.write(g.b[:c])
        return
    if kind == "gguf-valid":
        data = bytes(valid().b)
    elif kind.startswith("gguf-"):
        data = gguf(kind)
    elif kind.startswith("st-"):
        data = safetensors(kind)
    elif kind.startswith("pkl-"):
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            z.writestr("archive/data.pkl", pickle_zip(kind))
            z.writestr("archive/version", "3\n")
        return
    else:
        raise SystemExit("unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(data)


main()
