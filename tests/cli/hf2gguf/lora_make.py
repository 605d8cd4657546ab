#!/usr/bin/env python3
"""lora_make.py BASE_DIR OUT_DIR [options]: a PEFT LoRA adapter for the
checkpoint in BASE_DIR (any family fixtures/make_hf writes), deterministic
for a given --seed, with no extra packages (no numpy, no torch).

Writes OUT_DIR/adapter_config.json (peft_type LORA, r, lora_alpha,
target_modules, base_model_name_or_path) and OUT_DIR/adapter_model.safetensors
with, for each 2-D weight model.layers.N.M.weight of the base whose module
name M ends with a target, base_model.model.model.layers.N.M.lora_A.weight
[r, in] and ...lora_B.weight [out, r], names sorted, data in that order
(as safetensors' save_file lays them out).

  --rank R            (default 4)
  --alpha A           lora_alpha (default: R); a JSON number, or NaN
  --targets T         attn (q/k/v/o_proj, or qkv_proj), all (every linear
                      layer of the blocks) or a comma list of module names
  --dtype D           f32, f16 or bf16 (default f32)
  --seed S            (default 1)
  --layers N          only blocks 0..N-1 (default all)
  --set K=JSON        set a key of adapter_config.json (repeatable)
  --omit NAME         leave out tensors whose name contains NAME
  --bad-shape NAME    lora_B of tensors containing NAME gets one row more
  --extra NAME:R:C    add an F32 tensor NAME of R x C (NAME:N: 1-D)
  --truncate N        cut N bytes off the end of adapter_model.safetensors
  --embed 1           also base_model.model.model.embed_tokens.lora_embedding_A
                      [r, vocab] and ...lora_embedding_B [hidden, r] (PEFT's
                      embedding LoRA)
  --bin 1             write adapter_model.bin instead (torch.save's zip with a
                      protocol-2 pickle, written here without torch), the
                      state dict in sorted name order
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

ATTN = ["q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj"]


def base_shapes(base):
    """name -> shape of every tensor of the base checkpoint (headers only)."""
    files = sorted(f for f in os.listdir(base) if f.endswith(".safetensors"))
    out = {}
    for f in files:
        with open(os.path.join(base, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            hdr = json.loads(fh.read(n))
        for k, v in hdr.items():
            if k != "__metadata__":
                out[k] = v["shape"]
    return out


class Rng:
    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF

    def uniform(self):
        """xorshift64*: a float in [-1, 1) with 24 random bits."""
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 27
        self.s = s
        r = (s * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
        return ((r >> 40) / float(1 << 23)) - 1.0


def pack(vals, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(vals), *vals)
    if dtype == "F16":
        return struct.pack("<%de" % len(vals), *vals)
    out = bytearray()
    for v in vals:  # bf16: round to nearest even
        b = struct.unpack("<I", struct.pack("<f", v))[0]
        b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
        out += struct.pack("<H", b)
    return bytes(out)


def torch_zip(tensors, blobs):
    """torch.save's format: archive/data.pkl (an OrderedDict of
    torch._utils._rebuild_tensor_v2(persistent storage, 0, shape, stride,
    False, OrderedDict())), archive/data/K, archive/version. The globals are
    stand-in modules, so no torch is needed to write it."""
    tu = types.ModuleType("torch._utils")
    tm = types.ModuleType("torch")
    storages = {"F32": "FloatStorage", "F16": "HalfStorage", "BF16": "BFloat16Storage"}
    for n in storages.values():
        setattr(tm, n, type(n, (), {"__module__": "torch"}))

    class Rebuild:
        def __init__(self, key, dt, shape, n):
            self.args = (("storage", getattr(tm, storages[dt]), key, "cpu", n),
                         shape, dt)

        def __reduce__(self):
            shape = self.args[1]
            stride, acc = [], 1
            for d in reversed(shape):
                stride.insert(0, acc)
                acc *= d
            return (tu._rebuild_tensor_v2,
                    (Persist(self.args[0]), 0, tuple(shape), tuple(stride), False,
                     collections.OrderedDict()))

    class Persist:
        def __init__(self, pid):
            self.pid = pid

    def _rebuild_tensor_v2(*a):
        return None
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    tu._rebuild_tensor_v2 = _rebuild_tensor_v2
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = tm, tu
    try:
        state = collections.OrderedDict()
        for i, k in enumerate(sorted(tensors)):
            dt, shape = tensors[k]
            n = 1
            for d in shape:
                n *= d
            state[k] = Rebuild(str(i), dt, shape, n)

        class P(pickle.Pickler):
            def persistent_id(self, obj):
                return obj.pid if isinstance(obj, Persist) else None
        buf = io.BytesIO()
        P(buf, protocol=2).dump(state)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for i, b in enumerate(blobs):
            z.writestr("archive/data/%d" % i, b)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    base, out = argv[1], argv[2]
    opt = {"rank": "4", "alpha": None, "targets": "attn", "dtype": "f32", "seed": "1",
           "layers": None, "truncate": "0", "bin": "0", "embed": "0"}
    sets, omit, bad, extra = [], [], [], []
    i = 3
    while i < len(argv):
        a = argv[i]
        if i + 1 >= len(argv):
            sys.exit("lora_make: %s needs a value" % a)
        v = argv[i + 1]
        i += 2
        if a == "--set":
            sets.append(v)
        elif a == "--omit":
            omit.append(v)
        elif a == "--bad-shape":
            bad.append(v)
        elif a == "--extra":
            extra.append(v)
        elif a.startswith("--") and a[2:] in opt:
            opt[a[2:]] = v
        else:
            sys.exit("lora_make: unknown option " + a)
    rank = int(opt["rank"])
    dtype = {"f32": "F32", "f16": "F16", "bf16": "BF16"}[opt["dtype"]]
    shapes = base_shapes(base)
    if opt["targets"] == "attn":
        targets = [t for t in ATTN if any(k.endswith("." + t + ".weight") for k in shapes)]
    elif opt["targets"] == "all":
        targets = sorted({k.split(".")[-2] for k, s in shapes.items()
                          if k.startswith("model.layers.") and len(s) == 2
                          and k.endswith(".weight")})
    else:
        targets = opt["targets"].split(",")
    rng = Rng(int(opt["seed"]))
    tensors = {}
    for k in sorted(shapes):
        s = shapes[k]
        parts = k.split(".")
        if not k.startswith("model.layers.") or len(s) != 2 or parts[-1] != "weight" \
                or parts[-2] not in targets:
            continue
        if opt["layers"] is not None and int(parts[2]) >= int(opt["layers"]):
            continue
        stem = "base_model.model." + k[:-len(".weight")]
        rows_b = s[0] + (1 if any(b in k for b in bad) else 0)
        tensors[stem + ".lora_A.weight"] = (dtype, [rank, s[1]])
        tensors[stem + ".lora_B.weight"] = (dtype, [rows_b, rank])
    if opt["embed"] != "0":
        vocab, hidden = shapes["model.embed_tokens.weight"]
        stem = "base_model.model.model.embed_tokens"
        tensors[stem + ".lora_embedding_A"] = (dtype, [rank, vocab])
        tensors[stem + ".lora_embedding_B"] = (dtype, [hidden, rank])
    for e in extra:
        name, *dims = e.split(":")
        tensors[name] = ("F32", [int(d) for d in dims])
    for o in omit:
        for k in [k for k in tensors if o in k]:
            del tensors[k]
    hdr, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for k in sorted(tensors):
        dt, shape = tensors[k]
        n = 1
        for d in shape:
            n *= d
        scale = 0.25 if ".lora_A." in k else 0.05
        blob = pack([rng.uniform() * scale for _ in range(n)], dt)
        hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    data = struct.pack("<Q", len(h)) + h + b"".join(blobs)
    cut = int(opt["truncate"])
    if cut:
        data = data[:-cut]
    alpha = rank if opt["alpha"] is None else json.loads(opt["alpha"])
    cfg = {
        "base_model_name_or_path": os.path.basename(os.path.normpath(base)),
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": rank,
        "target_modules": targets,
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
    }
    for s in sets:
        k, v = s.split("=", 1)
        cfg[k] = json.loads(v)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if opt["bin"] != "0":
        with open(os.path.join(out, "adapter_model.bin"), "wb") as f:
            f.write(torch_zip(tensors, blobs))
        return
    with open(os.path.join(out, "adapter_model.safetensors"), "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv)
