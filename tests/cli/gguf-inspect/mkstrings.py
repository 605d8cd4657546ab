#!/usr/bin/env python3
"""Write a GGUF whose metadata exercises every JSON rendering rule of
gguf-inspect --json: non-ASCII (BMP and astral), invalid UTF-8, control
characters, quotes and backslashes, reals (1e-05, 0.1, 1e+30, NaN, +-inf,
-0.0, denormals), extreme integers, booleans, empty arrays and strings.

usage: mkstrings.py OUT.gguf       Test helper, not part of ggufkit."""
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
PACK = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
        F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def s(b):
    return struct.pack("<Q", len(b)) + b


def val(t, v):
    if t == STR:
        return s(v)
    if t == F32 and abs(v) > 3.4e38 and abs(v) != float("inf"):
        v = 3.4e38  # the largest finite binary32 range
    return struct.pack(PACK[t], v)


def kv(key, t, v):
    return s(key) + struct.pack("<I", t) + val(t, v)


def kv_arr(key, t, vs):
    return (s(key) + struct.pack("<II", ARR, t) + struct.pack("<Q", len(vs)) +
            b"".join(val(t, v) for v in vs))


inf, nan = float("inf"), float("nan")
reals = [1e-05, 0.1, 1e+30, nan, inf, -inf, -0.0, 0.0, 1.0, 3.4e38, 1e-45,
         123456.789, 2.5, 1e16, 1e17, 5e-324, 1.7976931348623157e308]
weird = [b"", b"caf\xc3\xa9", b"\xf0\x9f\x98\x80 smile", b"\x00\x01\x1f\x7f\x1b[31m",
         b'"q" \\ / \x08\x0c\n\r\t', b"a\xff\xc3(\xe2\x82\xf0\x9f\x98b\xed\xa0\x80z",
         b"\xc0\xaf\xf4\x90\x80\x80\xef\xbf\xbf\xe2\x80\xa8", b"\xc3"]
kvs = [
    kv(b"general.architecture", STR, b"llama"),
    kv(b"general.name", STR, b"t\xc3\xa9st \xe2\x82\xac \xf0\x9d\x84\x9e \x01"),
    kv(b"general.file_type", U32, 1),
    kv(b"llama.context_length", U32, 64),
    kv(b"llama.embedding_length", U32, 4),
    kv(b"llama.block_count", U32, 1),
    kv(b"llama.attention.head_count", U32, 1),
    kv(b"llama.rope.freq_base", F32, 10000.0),
    kv(b"llama.attention.layer_norm_rms_epsilon", F32, 1e-05),
    kv(b"llama.rope.scaling.type", STR, b"li\xffnear"),
    kv(b"llama.rope.scaling.factor", F64, 0.1),
    kv(b"k\xc3\xa9y\x1b[1m\x7f", STR, b"x"),
    kv(b"r.f32", F32, 1e+30),
    kv(b"r.f64", F64, 1e-05),
    kv(b"r.nan", F32, nan),
    kv(b"r.inf", F64, -inf),
    kv(b"i.u64max", U64, 2**64 - 1),
    kv(b"i.i64min", I64, -2**63),
    kv(b"i.i8", I8, -128),
    kv(b"i.u16", U16, 65535),
    kv(b"i.i16", I16, -1),
    kv(b"b.t", BOOL, True),
    kv(b"b.f", BOOL, False),
    kv_arr(b"a.f32", F32, reals),
    kv_arr(b"a.f64", F64, reals),
    kv_arr(b"a.empty", F32, []),
    kv_arr(b"a.empty_str", STR, []),
    kv_arr(b"a.u64", U64, [0, 2**63 - 1, 2**63, 2**64 - 1]),
    kv_arr(b"a.bool", BOOL, [True, False]),
    kv(b"tokenizer.ggml.model", STR, b"gpt2"),
    kv(b"tokenizer.ggml.pre", STR, b"\xe2\x80\xa8pre"),
    kv_arr(b"tokenizer.ggml.tokens", STR, weird),
    kv_arr(b"tokenizer.ggml.scores", F32, [float(i) / 3 for i in range(len(weird))]),
    kv_arr(b"tokenizer.ggml.token_type", I32, [1] * len(weird)),
    kv_arr(b"tokenizer.ggml.merges", STR, [b"\xc4\xa0 t", b"a\xff b"]),
    kv(b"tokenizer.ggml.bos_token_id", U32, 5),
    kv(b"tokenizer.ggml.eos_token_id", U32, 99),
    kv(b"tokenizer.ggml.add_bos_token", BOOL, True),
    kv(b"tokenizer.chat_template", STR, b"{{ \xff }}"),
]
tensors = [(b"token_embd.weight", [4, 8]), (b"blk.0.w\x1b[1mw\xc3\xa9", [4])]
b = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
for k in kvs:
    b += k
off = 0
for name, ne in tensors:
    b += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
    b += struct.pack("<IQ", 0, off)  # GGML_TYPE_F32
    n = 4
    for d in ne:
        n *= d
    off += (n + 31) // 32 * 32
b += b"\0" * (-len(b) % 32) + b"\0" * off
open(sys.argv[1], "wb").write(b)
