# gpt-oss without its sliding window key, or without block 1's attention
# sinks (each renamed in place): exit 2 naming the key or the tensor, no
# OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gptoss --layers 2 --embd 64 --ff 64 --heads 4 --kv-heads 2 \
    --head-dim 16 --experts 4 --topk 2 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --pre gpt-4o --outtype f16 hf -o m.gguf 2> /dev/null
refused() { # KEY-OR-TENSOR MESSAGE
    python3 -c "
import sys
d = open('m.gguf', 'rb').read()
k = sys.argv[1].encode()
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, k[:-1] + b'X'))
" "$1"
    local s=0
    gguf2onnx x.gguf out 2> err || s=$?
    [ "$s" = 2 ] || fail "$1: exit $s"
    grep -qF "x.gguf: $2" err || fail "$1: $(cat err)"
    assert_no_file out out.tmp.*
}
refused gpt-oss.attention.sliding_window \
    "missing or invalid hparam 'gpt-oss.attention.sliding_window' (needed by architecture gpt-oss)"
refused blk.1.attn_sinks.weight \
    "tensor 'blk.1.attn_sinks.weight' is missing or not 1 x 4 (needed by architecture gpt-oss)"
