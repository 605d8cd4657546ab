#!/usr/bin/env python3
"""bnb_make.py MODE SRC_DIR QUANT_DIR REF_DIR

From a float32 checkpoint SRC_DIR (make_hf --dtype f32) writes QUANT_DIR, its
decoder linear weights (model.layers.*, 2-D) quantized as bitsandbytes
serializes them (transformers save_pretrained of a load_in_4bit /
load_in_8bit model), and REF_DIR, the same checkpoint with those weights
replaced by their dequantized f32 values computed here from bitsandbytes'
published description (bitsandbytes-foundation/bitsandbytes: functional.py
get_4bit_type and QuantState.as_dict, utils.py pack_dict_to_tensor,
backends/default/ops.py dequantize_4bit / dequantize_blockwise, _ops.py
int8_vectorwise_dequant). MODE: nf4, nf4-nested (double quant, bf16 dtype),
fp4-nested, int8. BNB_OMIT=NAME leaves tensor NAME out of QUANT_DIR. No packages: f32 arithmetic is a double result rounded to f32
(exact for one product or one sum of f32 values).
"""
import array
import json
import os
import shutil
import struct
import sys

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
       0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
BLOCK, NESTED_BLOCK = 64, 256


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


NF4 = [f32(v) for v in NF4]
FP4 = [f32(v / 12) for v in [0, 0.0625, 8, 12, 4, 6, 2, 3, -0.0, -0.0625, -8, -12, -4, -6, -2, -3]]
NESTED_MAP = [f32(f32(i / 127.5) - 1) for i in range(256)]


def bf16(x):
    u = struct.unpack("<I", struct.pack("<f", x))[0]
    u = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000) & 0xFFFFFFFF
    return struct.unpack("<f", struct.pack("<I", u))[0]


def read_st(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    hdr.pop("__metadata__", None)
    out = {}
    for name, d in sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        assert d["dtype"] == "F32", name
        a, b = d["data_offsets"]
        out[name] = (d["shape"], array.array("f", raw[8 + n + a:8 + n + b]))
    return out


def write_st(path, tensors):
    """tensors: name -> (dtype, shape, bytes)"""
    hdr, off, blobs = {}, 0, []
    for name, (dt, shape, b) in tensors.items():
        hdr[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f32s(vals):
    return array.array("f", vals).tobytes()


def nearest(x, code):
    return min(range(len(code)), key=lambda c: abs(x - code[c]))


def quant4(name, shape, w, code, qtype, nested, dtype):
    n = len(w)
    nb = -(-n // BLOCK)
    absmax = [f32(max(abs(v) for v in w[b * BLOCK:(b + 1) * BLOCK]) or 1.0) for b in range(nb)]
    idx = [nearest(w[k] / absmax[k // BLOCK], code) for k in range(n)]
    if n % 2:
        idx.append(0)
    packed = bytes(idx[2 * k] << 4 | idx[2 * k + 1] for k in range(len(idx) // 2))
    parts = {name: ("U8", [len(packed), 1], packed)}
    state = {"quant_type": qtype, "blocksize": BLOCK, "dtype": dtype, "shape": list(shape)}
    if nested:
        offset = f32(sum(absmax) / nb)
        centered = [f32(a - offset) for a in absmax]
        nn = -(-nb // NESTED_BLOCK)
        nabs = [f32(max(abs(v) for v in centered[i * NESTED_BLOCK:(i + 1) * NESTED_BLOCK]) or 1.0)
                for i in range(nn)]
        acodes = [nearest(centered[b] / nabs[b // NESTED_BLOCK], NESTED_MAP) for b in range(nb)]
        used = [f32(f32(NESTED_MAP[acodes[b]] * nabs[b // NESTED_BLOCK]) + offset) for b in range(nb)]
        parts[name + ".absmax"] = ("U8", [nb], bytes(acodes))
        parts[name + ".quant_map"] = ("F32", [16], f32s(code))
        parts[name + ".nested_absmax"] = ("F32", [nn], f32s(nabs))
        parts[name + ".nested_quant_map"] = ("F32", [256], f32s(NESTED_MAP))
        state.update({"nested_blocksize": NESTED_BLOCK, "nested_dtype": "float32",
                      "nested_offset": offset})
    else:
        used = absmax
        parts[name + ".absmax"] = ("F32", [nb], f32s(absmax))
        parts[name + ".quant_map"] = ("F32", [16], f32s(code))
    js = json.dumps(state).encode()
    parts[name + ".quant_state.bitsandbytes__" + qtype] = ("U8", [len(js)], js)
    ref = [f32(code[idx[k]] * used[k // BLOCK]) for k in range(n)]
    if dtype == "bfloat16":
        ref = [bf16(v) for v in ref]
    return parts, ref


def quant8(name, shape, w):
    out, inn = shape
    scb = [f32(max(abs(v) for v in w[o * inn:(o + 1) * inn]) or 1.0) for o in range(out)]
    q = [max(-127, min(127, round(w[k] * (127 / scb[k // inn])))) for k in range(out * inn)]
    base = name[:-len(".weight")]
    parts = {name: ("I8", shape, struct.pack("<%db" % len(q), *q)),
             base + ".SCB": ("F32", [out], f32s(scb)),
             base + ".weight_format": ("U8", [1], bytes([0]))}
    c = f32(7.874015718698502e-3)
    ref = [f32(f32(q[k] * scb[k // inn]) * c) for k in range(out * inn)]
    return parts, ref


def main():
    mode, src, qdir, rdir = sys.argv[1:5]
    for d in (qdir, rdir):
        shutil.copytree(src, d)
    tensors = read_st(os.path.join(src, "model.safetensors"))
    qt, rt = {}, {}
    for name, (shape, a) in tensors.items():
        w = list(a)
        if name.startswith("model.layers.") and len(shape) == 2:
            if mode == "int8":
                parts, ref = quant8(name, shape, w)
            else:
                qtype = mode.split("-")[0]
                parts, ref = quant4(name, shape, w, NF4 if qtype == "nf4" else FP4, qtype,
                                    mode.endswith("nested"),
                                    "bfloat16" if mode == "nf4-nested" else "float32")
            qt.update(parts)
            rt[name] = ("F32", shape, f32s(ref))
        else:
            qt[name] = rt[name] = ("F32", shape, a.tobytes())
    omit = os.environ.get("BNB_OMIT")  # drop that part (bad-input cases)
    if omit:
        qt = {k: v for k, v in qt.items() if k != omit}
    write_st(os.path.join(qdir, "model.safetensors"), qt)
    write_st(os.path.join(rdir, "model.safetensors"), rt)
    cfg = json.load(open(os.path.join(src, "config.json")))
    cfg["quantization_config"] = {
        "quant_method": "bitsandbytes", "load_in_4bit": mode != "int8",
        "load_in_8bit": mode == "int8",
        "bnb_4bit_quant_type": mode.split("-")[0] if mode != "int8" else "fp4",
        "bnb_4bit_use_double_quant": mode.endswith("nested"),
        "bnb_4bit_compute_dtype": "float32", "bnb_4bit_quant_storage": "uint8",
        "llm_int8_threshold": 6.0}
    json.dump(cfg, open(os.path.join(qdir, "config.json"), "w"), indent=2)


main()
