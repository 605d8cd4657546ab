#!/usr/bin/env python3
"""gguf_tables.py FILE.gguf META.tsv TENSORS.tsv

Writes the metadata and tensor tables of a GGUF file in the format of
../shared/golden/convert-2026/*.tsv (see that folder's README.md):
  meta:    key TAB value type TAB value; strings JSON-quoted (UTF-8 kept),
           floats as Python repr of the stored value, bools True/False;
           arrays "[N x TYPE]" TAB first 16 hex of the SHA-256 of
           json.dumps(list, ensure_ascii=False)
  tensors: name TAB ggml type TAB shape (ne0 first, 'x'-joined) TAB XXH64
The goldens were written by Python from the same values, so rendering them
with Python's own repr and json gives the same bytes. No extra packages:
XXH64 comes from the xxh64sum program (xxhash's CLI).
"""
import hashlib
import json
import struct
import subprocess
import sys

VALUE_TYPES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL',
               'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64']
SCALAR_FMT = {0: '<B', 1: '<b', 2: '<H', 3: '<h', 4: '<I', 5: '<i', 6: '<f', 7: '<?',
              10: '<Q', 11: '<q', 12: '<d'}
# ggml type id: (name, elements per block, bytes per block)
GGML_TYPES = {0: ('F32', 1, 4), 1: ('F16', 1, 2), 2: ('Q4_0', 32, 18), 3: ('Q4_1', 32, 20),
              6: ('Q5_0', 32, 22), 7: ('Q5_1', 32, 24), 8: ('Q8_0', 32, 34),
              10: ('Q2_K', 256, 84), 11: ('Q3_K', 256, 110), 12: ('Q4_K', 256, 144),
              13: ('Q5_K', 256, 176), 14: ('Q6_K', 256, 210), 30: ('BF16', 1, 2),
              34: ('TQ1_0', 256, 54), 35: ('TQ2_0', 256, 66), 39: ('MXFP4', 32, 17)}


class Reader:
    def __init__(self, data):
        self.data = data
        self.off = 0

    def unpack(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.off)
        self.off += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.unpack('<Q')
        s = self.data[self.off:self.off + n].decode('utf-8')
        self.off += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        return self.unpack(SCALAR_FMT[t])


def render(v):
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return repr(v)


def xxh64(chunk):
    out = subprocess.run(['xxh64sum'], input=chunk, stdout=subprocess.PIPE, check=True).stdout
    return out.split()[0].decode()


def main():
    path, meta_out, tensors_out = sys.argv[1:4]
    with open(path, 'rb') as f:
        r = Reader(f.read())
    if r.data[:4] != b'GGUF':
        sys.exit(path + ': not a GGUF file')
    r.off = 4
    r.unpack('<I')
    n_tensors, n_kv = r.unpack('<Q'), r.unpack('<Q')
    meta, align = [], 32
    for _ in range(n_kv):
        key, t = r.string(), r.unpack('<I')
        if t == 9:
            et, n = r.unpack('<I'), r.unpack('<Q')
            vals = [r.value(et) for _ in range(n)]
            digest = hashlib.sha256(json.dumps(vals, ensure_ascii=False).encode()).hexdigest()
            meta.append('%s\t[%d x %s]\t%s' % (key, n, VALUE_TYPES[et], digest[:16]))
        else:
            v = r.value(t)
            if key == 'general.alignment':
                align = v
            meta.append('%s\t%s\t%s' % (key, VALUE_TYPES[t], render(v)))
    infos = []
    for _ in range(n_tensors):
        name, nd = r.string(), r.unpack('<I')
        ne = [r.unpack('<Q') for _ in range(nd)]
        infos.append((name, ne, r.unpack('<I'), r.unpack('<Q')))
    data0 = (r.off + align - 1) // align * align
    lines = []
    for name, ne, t, off in infos:
        tname, block, size = GGML_TYPES.get(t, (str(t), 1, 1))
        n = 1
        for d in ne:
            n *= d
        start = data0 + off
        digest = xxh64(r.data[start:start + n // block * size])
        lines.append('%s\t%s\t%s\t%s' % (name, tname, 'x'.join(map(str, ne)), digest))
    with open(meta_out, 'w', encoding='utf-8') as f:
        f.write(''.join(m + '\n' for m in meta))
    with open(tensors_out, 'w', encoding='utf-8') as f:
        f.write(''.join(line + '\n' for line in lines))


if __name__ == '__main__':
    main()
