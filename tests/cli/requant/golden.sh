# Every preset in ../shared/golden/llama-quantize: types and XXH64 of every
# tensor equal llama-quantize's. A preset that fails to run is a failure.
. "$SRC/tests/cli/requant/_common.inc"
bad=0
for tsv in "$GOLD"/*.tsv; do
    p=$(basename "$tsv" .tsv)
    if [ "$ASAN" = 1 ]; then
        case " Q8_0 Q4_K_M IQ4_XS TQ2_0 " in *" $p "*) ;; *) continue ;; esac
    fi
    if ! requant -q "$REF" "$p.gguf" "$p" 2>err.txt; then
        echo "$p: requant failed: $(head -n1 err.txt)" >&2
        bad=$((bad + 1))
        continue
    fi
    "$HASHES" "$p.gguf" > "$p.got"
    if ! cmp -s "$p.got" "$tsv"; then
        echo "$p: $(diff "$p.got" "$tsv" | grep -c '^<') tensors differ" >&2
        bad=$((bad + 1))
    fi
    rm -f "$p.gguf"
done
[ "$bad" = 0 ] || fail "$bad presets differ from llama-quantize"
