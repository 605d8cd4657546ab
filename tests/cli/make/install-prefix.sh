# ggufkit.pc follows each install's PREFIX: an install into another prefix
# first (or an old ggufkit.pc in the build directory) cannot leak into it,
# and installing writes no ggufkit.pc into the build directory
case "$PATH" in *asan*) exit 0 ;; esac # one install is enough
. "$SRC/tests/cli/lib.sh"
before=$(ls -l --time-style=+%s%N "$BUILD/ggufkit.pc" 2>/dev/null || echo none)
for p in /first/prefix /opt/gk2; do
    make -s -C "$SRC" BUILD="$BUILD" install PREFIX=$p DESTDIR="$PWD/root" > make.log 2>&1 ||
        fail "make install PREFIX=$p: $(tail -5 make.log)"
done
pc=$PWD/root/opt/gk2/lib/pkgconfig/ggufkit.pc
[ "$(PKG_CONFIG_PATH=${pc%/*} pkg-config --variable=prefix ggufkit)" = /opt/gk2 ] ||
    fail "stale prefix: $(head -3 "$pc")"
[ "$(PKG_CONFIG_PATH=${pc%/*} pkg-config --cflags ggufkit | xargs)" = -I/opt/gk2/include/ggufkit ] ||
    fail "cflags: $(PKG_CONFIG_PATH=${pc%/*} pkg-config --cflags ggufkit)"
grep -qx 'libdir=/opt/gk2/lib' "$pc" || fail "libdir: $(grep libdir= "$pc")"
after=$(ls -l --time-style=+%s%N "$BUILD/ggufkit.pc" 2>/dev/null || echo none)
[ "$before" = "$after" ] || fail "make install wrote $BUILD/ggufkit.pc"
