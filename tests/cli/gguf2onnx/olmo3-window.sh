# An olmo2 GGUF with OLMo 3's sliding window: refused (exit 2) naming the
# key, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch olmo2 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --pre qwen2 --outtype f16 hf -o m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv olmo2.attention.sliding_window=int:16 m.gguf x.gguf F16
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
