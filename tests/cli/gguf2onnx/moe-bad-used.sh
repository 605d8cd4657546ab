# A mixture of experts whose expert_used_count exceeds expert_count: exit 2
# naming the key, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --kv-heads 1 --vocab 300 \
    --experts 4 --experts-used 2 m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv llama.expert_used_count=int:9 m.gguf x.gguf F16
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
