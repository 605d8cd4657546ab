# Helpers sourced by CLI cases: . "$SRC/tests/cli/lib.sh"

# need_shared: exit 77 (skip; a failure under CI=true) when ../shared is absent.
need_shared() {
    if [ ! -d "$SHARED/fixtures" ]; then
        echo "SKIP: ../shared not found" >&2
        exit 77
    fi
}

# fail MSG: end the case with a message.
fail() {
    echo "FAIL: $*" >&2
    exit 99
}

# assert_no_file PATTERN...: nothing matching is left behind (no partial output).
assert_no_file() {
    for f in "$@"; do
        [ -e "$f" ] && fail "unexpected file left behind: $f"
    done
    return 0
}
