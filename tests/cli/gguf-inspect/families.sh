# Every family hf2gguf lists (--list-archs; the ones make_hf cannot make yet
# are skipped, but not the seven below) goes through the other programs
# without complaint: gguf-inspect (text, --json, --mem 4096), gguf-verify
# validate, gguf-verify diff against a Q8_0 requant, requant --dry-run
# Q4_K_M; all exit 0 with nothing on stderr. The hyper-parameters view shows
# each family's own keys, the sliding-window layers and the rope factor
# tensors, and --mem counts sliding-window layers by their window.
. "$SRC/tests/cli/lib.sh"
quiet() { # label command...: exit 0 and an empty stderr
    "${@:2}" 2>err || fail "$1: exit $?: $(cat err)"
    [ ! -s err ] || fail "$1: stderr: $(cat err)"
}
has() { # file line-pattern
    grep -q "^  $2\$" "$1" || fail "$1: no line '$2': $(sed -n '/^hyper/,/^$/p' "$1")"
}
done_archs=
for a in $(hf2gguf --list-archs | cut -f1 | awk '!seen[$0]++'); do # mixtral is llama too
    "$BUILD/fixtures/make_hf" --arch "$a" --layers 6 --embd 256 --ff 512 --heads 4 --kv-heads 2 \
        "hf-$a" >/dev/null 2>&1 || continue
    # make_hf's toy BPE tokenizers have no known check hash: --pre names one
    quiet "$a: hf2gguf" hf2gguf -q --pre llama-bpe "hf-$a" --outtype f16 -o "$a.gguf"
    quiet "$a: inspect" gguf-inspect "$a.gguf" >"$a.txt"
    quiet "$a: inspect --json" gguf-inspect --json "$a.gguf" >"$a.json"
    quiet "$a: inspect --mem" gguf-inspect --mem 4096 "$a.gguf" >"$a.mem"
    quiet "$a: validate" gguf-verify validate "$a.gguf" >/dev/null
    quiet "$a: requant" requant -q "$a.gguf" "$a-q8.gguf" Q8_0
    quiet "$a: diff" gguf-verify diff "$a.gguf" "$a-q8.gguf" >/dev/null
    quiet "$a: dry-run" requant --dry-run "$a.gguf" "$a-q4.gguf" Q4_K_M >/dev/null
    assert_no_file "$a-q4.gguf"
    [ "$(jq -r .hparams.architecture "$a.json")" = "$a" ] || fail "$a: hparams.architecture"
    grep -q '^memory at context 4096 ' "$a.mem" || fail "$a: no memory section"
    done_archs="$done_archs $a "
done
for a in smollm3 granite phi3 gemma2 gemma3 olmo2 glm4; do
    [[ "$done_archs" == *" $a "* ]] || fail "$a not converted"
done

# gemma2: soft-capping, window 4096 on every other layer
has gemma2.txt 'sliding window  *4096'
has gemma2.txt 'attn logit softcap  *50'
has gemma2.txt 'final logit softcap  *30'
has gemma2.txt 'swa layers  *3 of 6 (window 4096, 1 global layer in every 2)'
# gemma3: the config's window (512) on 5 of every 6 layers, its own rope base
has gemma3.txt 'sliding window  *512'
has gemma3.txt 'rope freq base swa  *10000'
has gemma3.txt 'swa layers  *5 of 6 (window 512, 1 global layer in every 6)'
grep -q 'kv cache .*(5 of 6 layers hold at most the 512-token window: 1024 cells)$' gemma3.mem ||
    fail "gemma3 --mem: $(cat gemma3.mem)"
# granite: the four multipliers
has granite.txt 'embedding scale  *12'
has granite.txt 'residual scale  *0.22'
has granite.txt 'attention scale  *0.015625'
has granite.txt 'logit scale  *8'
# phi3: LongRoPE; its window is shown but llama.cpp does not use it
has phi3.txt 'rope attn factor  *[0-9.]*'
has phi3.txt 'rope original context  *[0-9]*'
has phi3.txt 'rope factor tensors   rope_factors_long.weight (32), rope_factors_short.weight (32)'
grep -q '^  swa layers' phi3.txt && fail "phi3: swa layers shown"
for a in llama smollm3 granite; do
    grep -q '^  \(sliding window\|swa layers\|rope factor tensors\) ' "$a.txt" && fail "$a: SWA or rope factor line"
done

# --json: the same, by field; the KV cache at 8192 tokens, f16, 2 kv heads
# of 64+64: sliding layers hold window + ubatch (512) cells, padded to 256,
# as llama.cpp sizes them: gemma2 3 x 8192 + 3 x 4608, gemma3 1 x 8192 + 5 x 1024
j() { jq -c "$2" "$1.json"; }
[ "$(j gemma2 '.hparams | [.sliding_window, .attn_logit_softcapping, .final_logit_softcapping, .swa]')" = \
    '[4096,50,30,{"window":4096,"period":2,"layers":3}]' ] || fail "gemma2 json: $(j gemma2 .hparams)"
[ "$(j gemma3 '.hparams | [.sliding_window, .rope_freq_base_swa, .swa, .rope_factor_tensors]')" = \
    '[512,10000,{"window":512,"period":6,"layers":5},[]]' ] || fail "gemma3 json: $(j gemma3 .hparams)"
[ "$(j granite '.hparams | [.embedding_scale, .attention_scale, .logit_scale, .swa]')" = '[12,0.015625,8,null]' ] ||
    fail "granite json: $(j granite .hparams)"
[ "$(j phi3 '.hparams | [.swa, .rope_factor_tensors, (.rope_scaling_attn_factor > 1)]')" = \
    '[null,["rope_factors_long.weight","rope_factors_short.weight"],true]' ] || fail "phi3 json: $(j phi3 .hparams)"
kv() { gguf-inspect --json --mem 8192 "$1.gguf" | jq .memory.kv_cache_bytes; }
[ "$(kv gemma2)" = $(((3 * 8192 + 3 * 4608) * 2 * 128 * 2)) ] || fail "gemma2 kv cache $(kv gemma2)"
[ "$(kv gemma3)" = $(((8192 + 5 * 1024) * 2 * 128 * 2)) ] || fail "gemma3 kv cache $(kv gemma3)"
[ "$(kv llama)" = $((6 * 8192 * 2 * 128 * 2)) ] || fail "llama kv cache $(kv llama)"
