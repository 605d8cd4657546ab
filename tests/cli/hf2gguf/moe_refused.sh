# Mixtures of experts that cannot be converted: exit 2, one message naming
# the file and the tensor or key, no output. A missing expert; an expert
# number beyond num_local_experts, and a count above the experts there;
# experts of different shapes, by config.json's width and, without one, by
# comparing the experts; experts of different dtypes; num_experts_per_tok
# above the expert count; no expert count at all.
. "$SRC/tests/cli/lib.sh"
mk() { # dir arch [make_hf options]
    local d=$1 a=$2
    shift 2
    "$BUILD/fixtures/make_hf" --arch "$a" --layers 2 --embd 32 --ff 64 --heads 4 --vocab 320 "$@" "$d"
}
setkey() { # dir key json-value|DELETE...
    python3 - "$@" <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/config.json"))
for k, v in zip(sys.argv[2::2], sys.argv[3::2]):
    if v == "DELETE":
        del c[k]
    else:
        c[k] = json.loads(v)
json.dump(c, open(d + "/config.json", "w"), indent=1)
PY
}
try() { # label dir
    s=0
    hf2gguf --pre qwen2 "$2" -o out.gguf 2>err || s=$?
    assert_no_file out.gguf
    [ "$(wc -l <err)" = 1 ] || fail "$1: message not one line: $(cat err)"
    echo "$1: exit $s: $(cat err)"
}
mk miss mixtral --omit model.layers.1.block_sparse_moe.experts.2.w3.weight
try missing miss
mk more mixtral
setkey more num_local_experts 3
try beyond more
mk fewer qwen2moe
setkey fewer num_experts 6
try fewer fewer
mk shape qwen3moe --bad-shape model.layers.0.mlp.experts.1.gate_proj.weight
try shape shape
setkey shape moe_intermediate_size DELETE intermediate_size DELETE
try shape-stack shape
# expert 1's w2 of block 0 marked BF16 among F16 experts (same size)
mk dtype mixtral --dtype f16
python3 - dtype/model.safetensors <<'PY'
import json, struct, sys
p = sys.argv[1]
b = open(p, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["model.layers.0.block_sparse_moe.experts.1.w2.weight"]["dtype"] = "BF16"
js = json.dumps(h).encode()
js += b" " * (-len(js) % 8)
open(p, "wb").write(struct.pack("<Q", len(js)) + js + b[8 + n:])
PY
try dtype dtype
mk topk qwen3moe --topk 5
try topk topk
mk nocount qwen3moe
setkey nocount num_experts DELETE
try no-count nocount
echo ok
