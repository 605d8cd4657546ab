# moe2_reshape.py SRC DST NAME SHAPE [KEY=JSON ...]: copy checkpoint SRC to
# DST (every file) with tensor NAME's safetensors header shape replaced by
# SHAPE (a comma list of the same element count: the bytes stay) and the
# config.json keys given set, for the bad-input cases of the deepseek2 and
# gpt-oss families (moe2_*.sh).
import json
import os
import shutil
import struct
import sys

src, dst, name, shape = sys.argv[1:5]
os.mkdir(dst)
for f in os.listdir(src):
    shutil.copy(os.path.join(src, f), os.path.join(dst, f))
path = os.path.join(dst, "model.safetensors")
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    hdr = json.loads(f.read(n))
    data = f.read()
if name != "-":
    hdr[name]["shape"] = [int(x) for x in shape.split(",")]
h = json.dumps(hdr).encode()
h += b" " * (-len(h) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
cfg_path = os.path.join(dst, "config.json")
cfg = json.load(open(cfg_path))
for kv in sys.argv[5:]:
    k, v = kv.split("=", 1)
    cfg[k] = json.loads(v)
json.dump(cfg, open(cfg_path, "w"), indent=2)
