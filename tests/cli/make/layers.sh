# scripts/check-layers (make check's first step) fails on an include of a
# higher layer, naming the file, line and layers, and passes on the real tree
case "$PATH" in *asan*) exit 0 ;; esac # no programs involved: once is enough
. "$SRC/tests/cli/lib.sh"
mkdir -p tree/formats tree/converters/x tree/kernels
printf '#include "kernels/k.h"\n' > tree/kernels/k.h
printf '#include "kernels/k.h"\n#include "converters/x/y.h"\n' > tree/formats/x.c
: > tree/converters/x/y.h
rc=0
"$SRC/scripts/check-layers" tree > out.txt 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "exit $rc on a wrong include, expected 1: $(cat out.txt)"
want='formats/x.c:2: includes "converters/x/y.h" (converters is above formats)
layers: 2 passed, 1 failed (1 wrong includes in 3 files)'
[ "$(cat out.txt)" = "$want" ] || fail "output: $(cat out.txt)"
# the same tree without the wrong include passes
printf '#include "kernels/k.h"\n' > tree/formats/x.c
"$SRC/scripts/check-layers" tree > out.txt 2>&1 || fail "exit $? on a good tree: $(cat out.txt)"
[ "$(cat out.txt)" = 'layers: 3 passed, 0 failed (0 wrong includes in 3 files)' ] || fail "output: $(cat out.txt)"
# the real tree
"$SRC/scripts/check-layers" > out.txt 2>&1 || fail "the tree has wrong includes: $(cat out.txt)"
grep -qx 'layers: [1-9][0-9]* passed, 0 failed (0 wrong includes in [1-9][0-9]* files)' out.txt || fail "summary: $(cat out.txt)"
