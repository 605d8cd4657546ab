# moe2_fp8.py SRC FP8_DIR REF_DIR: from a BF16 deepseek2 checkpoint, an FP8
# one as DeepSeek-V3 ships (F8_E4M3 weights with a weight_scale_inv per
# 128x128 block, quantization_config fp8) for kv_b_proj and the routed
# experts, and a reference with the same weights dequantized
# (float(q) * scale_inv, exact in f32) stored as F32. Pure Python.
import json
import math
import os
import shutil
import struct
import sys

src, fp8_dir, ref_dir = sys.argv[1:4]


def e4m3(code):
    s = -1.0 if code & 0x80 else 1.0
    e, m = (code >> 3) & 15, code & 7
    if e == 15 and m == 7:
        return None  # NaN
    return s * (m / 8 * 2.0**-6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7))


CODES = [(e4m3(c), c) for c in range(256) if e4m3(c) is not None]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def encode(x):
    return min(CODES, key=lambda vc: (abs(vc[0] - x), vc[1]))[1]


def bf16_values(b):
    return [struct.unpack("<f", b"\0\0" + b[i : i + 2])[0] for i in range(0, len(b), 2)]


with open(os.path.join(src, "model.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    hdr = json.loads(f.read(n))
    data = f.read()
hdr.pop("__metadata__", None)


def quantized(name):
    return name.endswith("kv_b_proj.weight") or ".mlp.experts." in name


out_fp8, out_ref = [], []
for name in sorted(hdr):
    h = hdr[name]
    a, b = h["data_offsets"]
    raw = data[a:b]
    if not quantized(name):
        out_fp8.append((name, h["dtype"], h["shape"], raw))
        out_ref.append((name, h["dtype"], h["shape"], raw))
        continue
    rows, cols = h["shape"]
    assert rows <= 128 and cols <= 128  # one block: one scale
    vals = bf16_values(raw)
    scale = f32(max(abs(v) for v in vals) / 448.0) or 1.0
    q = bytes(encode(v / scale) for v in vals)
    deq = [f32(e4m3(c) * scale) for c in q]
    out_fp8.append((name, "F8_E4M3", [rows, cols], q))
    out_fp8.append((name + "_scale_inv", "F32", [1, 1], struct.pack("<f", scale)))
    out_ref.append((name, "F32", [rows, cols], struct.pack("<%df" % len(deq), *deq)))


def write(dir_, tensors, quant):
    os.mkdir(dir_)
    for f in os.listdir(src):
        if f != "model.safetensors":
            shutil.copy(os.path.join(src, f), os.path.join(dir_, f))
    hd, off = {}, 0
    for name, dt, shape, raw in tensors:
        hd[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    hj = json.dumps(hd).encode()
    hj += b" " * (-len(hj) % 8)
    with open(os.path.join(dir_, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(t[3] for t in tensors))
    if quant:
        p = os.path.join(dir_, "config.json")
        cfg = json.load(open(p))
        cfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3",
                                      "activation_scheme": "dynamic",
                                      "weight_block_size": [128, 128]}
        json.dump(cfg, open(p, "w"), indent=2)


write(fp8_dir, out_fp8, True)
write(ref_dir, out_ref, False)
