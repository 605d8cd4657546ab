#!/usr/bin/env python3
"""mklora_gguf.py OUT ALPHA NAME:NE0xNE1 ...: a LoRA adapter GGUF (general.type
adapter, adapter.type lora, general.architecture llama, adapter.lora.alpha
ALPHA as f32: 'nan' allowed) with F32 tensors of the given ggml shapes, zero
data. Test helper for requant --lora's bad-input cases: values no converter
writes (alpha NaN, rank 0)."""
import struct
import sys


def kv_str(key, val):
    k, v = key.encode(), val.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", 8) + struct.pack("<Q", len(v)) + v


def main(out, alpha, specs):
    kvs = [kv_str("general.architecture", "llama"), kv_str("general.type", "adapter"),
           kv_str("adapter.type", "lora")]
    k = b"adapter.lora.alpha"
    kvs.append(struct.pack("<Q", len(k)) + k + struct.pack("<I", 6) + struct.pack("<f", float(alpha)))
    infos, data, off = b"", b"", 0
    for spec in specs:
        name, shape = spec.rsplit(":", 1)
        ne = [int(x) for x in shape.split("x")]
        n = name.encode()
        infos += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(ne))
        infos += b"".join(struct.pack("<q", x) for x in ne) + struct.pack("<IQ", 0, off)
        size = 4
        for x in ne:
            size *= x
        pad = (size + 31) // 32 * 32
        data += bytes(pad)
        off += pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(specs), len(kvs)) + b"".join(kvs) + infos
    head += bytes((32 - len(head) % 32) % 32)
    with open(out, "wb") as f:
        f.write(head + data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
