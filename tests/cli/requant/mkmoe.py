#!/usr/bin/env python3
"""Write a tiny llama-architecture mixture-of-experts GGUF (2 layers, 4
experts, F16 weights from a fixed pseudo-random sequence) for the requant
cases that need 3-D expert tensors. usage: mkmoe.py OUT.gguf"""
import struct
import sys

E, FF, NX, VOCAB, LAYERS = 256, 256, 4, 64, 2


def s(x):
    x = x.encode()
    return struct.pack("<Q", len(x)) + x


def main(out):
    kvs = [("general.architecture", 8, s("llama")), ("general.name", 8, s("moe-test")),
           ("llama.block_count", 4, struct.pack("<I", LAYERS)),
           ("llama.embedding_length", 4, struct.pack("<I", E)),
           ("llama.attention.head_count", 4, struct.pack("<I", 4)),
           ("llama.attention.head_count_kv", 4, struct.pack("<I", 4)),
           ("llama.expert_count", 4, struct.pack("<I", NX)),
           ("llama.expert_used_count", 4, struct.pack("<I", 2)),
           ("general.file_type", 4, struct.pack("<I", 1))]
    tensors = [("token_embd.weight", [E, VOCAB]), ("output_norm.weight", [E]),
               ("output.weight", [E, VOCAB])]
    for l in range(LAYERS):
        p = "blk.%d." % l
        tensors += [(p + "attn_norm.weight", [E]), (p + "attn_q.weight", [E, E]),
                    (p + "attn_k.weight", [E, E]), (p + "attn_v.weight", [E, E]),
                    (p + "attn_output.weight", [E, E]), (p + "ffn_norm.weight", [E]),
                    (p + "ffn_gate_inp.weight", [E, NX]),
                    (p + "ffn_gate_exps.weight", [E, FF, NX]),
                    (p + "ffn_up_exps.weight", [E, FF, NX]),
                    (p + "ffn_down_exps.weight", [FF, E, NX])]
    head = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
    for k, t, v in kvs:
        head += s(k) + struct.pack("<I", t) + v
    data = bytearray()
    seed = 12345
    for name, ne in tensors:
        n = 1
        for d in ne:
            n *= d
        f32 = len(ne) == 1
        head += s(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        head += struct.pack("<IQ", 0 if f32 else 1, len(data))
        vals = []
        for _ in range(n):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            vals.append(((seed >> 8) % 2001 - 1000) / 20000.0 + (1.0 if f32 else 0.0))
        data += struct.pack("<%d%s" % (n, "f" if f32 else "e"), *vals)
        data += b"\0" * ((-len(data)) % 32)
    head += b"\0" * ((-len(head)) % 32)
    with open(out, "wb") as f:
        f.write(head + data)


main(sys.argv[1])
