# make install honours PREFIX and DESTDIR: programs, man pages, the static
# library, headers and a pkg-config file that compiles a program against it
case "$PATH" in *asan*) exit 0 ;; esac # one install is enough
. "$SRC/tests/cli/lib.sh"
make -s -C "$SRC" BUILD="$BUILD" install PREFIX=/opt/gk DESTDIR="$PWD/root" > make.log 2>&1 ||
    fail "make install: $(tail -5 make.log)"
r=$PWD/root/opt/gk
for p in gguf-inspect gguf-verify requant hf2gguf gguf2onnx gguf-edit; do
    [ -x "$r/bin/$p" ] || fail "no $p"
    [ -f "$r/share/man/man1/$p.1" ] || fail "no man page for $p"
done
[ -f "$r/lib/libggufkit.a" ] || fail "no libggufkit.a"
[ -f "$r/include/ggufkit/formats/gguf.h" ] || fail "no headers"
grep -q '^prefix=/opt/gk$' "$r/lib/pkgconfig/ggufkit.pc" || fail "pc prefix"
cat > t.c <<'C'
#include <ggufkit.h>
#include <kernels/kernels.h>
int main(void) { return kern_row_bytes(KERN_TYPE_Q4_0, 32) == 18 && gk_exit_code(GK_OK) == 0 ? 0 : 1; }
C
cc -I"$r/include/ggufkit" t.c "$r/lib/libggufkit.a" $(pkg-config --libs jansson libzstd libxxhash libcrypto libprotobuf-c) -lm -pthread -o t
./t || fail "program linked against the installed library"
