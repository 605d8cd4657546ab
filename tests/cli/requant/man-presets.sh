# requant.1 never calls a preset missing that `requant --list` offers: its
# NOT SUPPORTED section names no preset the build has (IQ1_S and IQ1_M were
# called missing though they work)
. "$SRC/tests/cli/lib.sh"
sect=$(sed -n '/^\.SH NOT SUPPORTED/,/^\.SH /p' "$SRC/docs/requant.1")
[ -n "$sect" ] || fail "no NOT SUPPORTED section"
requant --list | awk 'NR > 1 && !/not in this build/ { print $1 }' > have.txt
[ "$(wc -l < have.txt)" -gt 30 ] || fail "--list: $(cat have.txt)"
while read -r p; do
    printf '%s\n' "$sect" | grep -qw -- "$p" &&
        fail "requant.1 NOT SUPPORTED names $p, which --list offers: $sect"
done < have.txt
# and the synopsis shows llama-quantize's operand forms
grep -q 'NTHREADS' "$SRC/docs/requant.1" || fail "synopsis lacks NTHREADS"
exit 0
