# Help, version and usage errors: one line naming the problem, then the
# pointer to --help, never the whole help on stderr.
requant -h | grep -q '^usage: requant'
requant --version | grep -q '^requant [0-9.]* (simd: [a-z0-9]*)$'
for args in "" "in.gguf" "a b c d" "--bogus a b Q8_0" "-j x a b Q8_0" "--zstd=99 a b Q8_0" \
            "--include-weights a --exclude-weights b --imatrix x a b Q8_0" "--json a b Q8_0" \
            "--no-metrics --report r.json a b Q8_0"; do
    rc=0
    # shellcheck disable=SC2086
    requant $args > out.txt 2> err.txt || rc=$?
    [ "$rc" = 2 ] || { echo "'$args': exit $rc" >&2; exit 1; }
    [ -s out.txt ] && { echo "'$args': stdout not empty" >&2; exit 1; }
    [ "$(wc -l < err.txt)" = 2 ] && grep -q '^requant: ' err.txt &&
        [ "$(tail -n1 err.txt)" = "Try 'requant --help' for more information." ] ||
        { echo "'$args': not a usage error: $(cat err.txt)" >&2; exit 1; }
done
