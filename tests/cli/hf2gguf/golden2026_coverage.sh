# Every table set in ../shared/golden/convert-2026 (NAME.f16.meta.tsv) has a
# case that runs golden2026 NAME, or an entry with its reason in
# golden2026.pending: a missing table is never silent. Also no stale entry:
# a pending NAME that has a case, or that has no table.
. "$SRC/tests/cli/lib.sh"
need_shared
dir="$SRC/tests/cli/hf2gguf"
pending=$(grep -v '^#' "$dir/golden2026.pending" | awk 'NF { print $1 }')
covered=$(cat "$dir"/golden2026-*.sh 2>/dev/null | sed -n 's/^golden2026 \([^ ]*\).*/\1/p')
bad=0
for m in "$SHARED"/golden/convert-2026/*.f16.meta.tsv; do
    name=$(basename "$m" .f16.meta.tsv)
    in_case=$(printf '%s\n' $covered | grep -cxF "$name" || true)
    in_pending=$(printf '%s\n' $pending | grep -cxF "$name" || true)
    if [ "$in_case" = 0 ] && [ "$in_pending" = 0 ]; then
        echo "no golden2026 case and not pending: $name" >&2
        bad=1
    elif [ "$in_case" != 0 ] && [ "$in_pending" != 0 ]; then
        echo "has a golden2026 case but is still pending: $name" >&2
        bad=1
    fi
done
for name in $pending; do
    [ -f "$SHARED/golden/convert-2026/$name.f16.meta.tsv" ] || {
        echo "pending entry without a table: $name" >&2
        bad=1
    }
done
[ "$bad" = 0 ] || fail "convert-2026 tables not covered"
echo ok
