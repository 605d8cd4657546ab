# ggufkit -- one Makefile for the library, the five programs and the tests.
#
#   make            build programs and libggufkit.a into $(BUILD)
#   make check      layering check, bootstrap, build, run unit (plain + ASan/UBSan), CLI and
#                   interop tests, fuzz regression replay
#   make demo       bootstrap demo (only what the demo uses), build, run the end-to-end
#                   pipeline on a generated model
#   make bench      throughput benchmarks against memcpy/cp/xxhsum on this machine
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each
#   make valgrind-demo  the demo pipeline on a tiny model under Valgrind memcheck
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every C source

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include/ggufkit
MANDIR  ?= $(PREFIX)/share/man/man1
PKGDIR  ?= $(LIBDIR)/pkgconfig
FUZZ_SECONDS ?= 20
WERROR  ?= -Werror

PKGS    := jansson libzstd libxxhash libcrypto libprotobuf-c libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# -ffp-contract=off and no -ffast-math/-march: kernels must match ggml bit for bit.
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes $(WERROR)
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -ffp-contract=off -fno-fast-math -pthread \
              -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -pthread
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

ARCH := $(shell $(CC) -dumpmachine)
ifneq ($(filter x86_64%,$(ARCH)),)
SIMD_SRC := $(wildcard kernels/x86/*.c)
endif
ifneq ($(filter aarch64%,$(ARCH)),)
SIMD_SRC := $(wildcard kernels/arm/*.c)
endif
# Only the ISA file gets the ISA flags.
ISA_FLAGS_kernels/x86/avx2.c   := -mavx2 -mf16c -mfma
ISA_FLAGS_kernels/x86/avx512.c := -mavx512f -mavx512bw -mavx512vl -mavx2 -mf16c -mfma

MAINS := $(wildcard converters/hf2gguf/hf2gguf.c converters/requant/requant.c \
                    converters/gguf2onnx/gguf2onnx.c inspect/gguf_inspect.c verify/gguf_verify.c \
                    edit/gguf_edit.c)
PROGRAMS := $(patsubst %.c,%,$(subst _,-,$(notdir $(MAINS))))
MODULE_SRC := $(wildcard formats/*.c kernels/*.c verify/*.c converters/*/*.c inspect/*.c edit/*.c)
LIB_SRC := ggufkit.c $(filter-out %_test.c $(MAINS),$(MODULE_SRC)) $(SIMD_SRC)
# Helper programs: fixture generators and benchmarks (linked like tests, not installed).
TOOL_SRC := $(wildcard fixtures/*.c bench/*.c)
TOOLS    := $(patsubst %.c,$(BUILD)/%,$(TOOL_SRC))
TEST_SRC := $(wildcard formats/*_test.c kernels/*_test.c verify/*_test.c converters/*/*_test.c \
                       inspect/*_test.c edit/*_test.c)
HEADERS := ggufkit.h $(wildcard formats/*.h kernels/kernels.h verify/verify.h)

# ONNX protobuf code is generated at build time from Debian's onnx.proto.
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
GEN_SRC := $(if $(wildcard formats/onnx.c),$(BUILD)/gen/onnx.pb-c.c)
# SentencePiece ModelProto subset (tokenizer.model), our own formats/sentencepiece.proto.
GEN_SRC += $(if $(wildcard formats/spm.c),$(BUILD)/gen/sentencepiece.pb-c.c)

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))
LIB_OBJ  := $(call obj,obj,$(LIB_SRC) $(GEN_SRC))
ASAN_OBJ := $(call obj,asan,$(LIB_SRC) $(GEN_SRC))
LIB      := $(BUILD)/libggufkit.a
ASAN_LIB := $(BUILD)/asan/libggufkit.a
BINS     := $(addprefix $(BUILD)/bin/,$(PROGRAMS))
ASAN_BINS := $(addprefix $(BUILD)/asan/bin/,$(PROGRAMS))
TESTS    := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRC)))
ASAN_TESTS := $(patsubst %.c,$(BUILD)/asan/tests/%,$(notdir $(TEST_SRC)))

.PHONY: all check unit unit-asan cli interop demo bench fuzz fuzz-regress valgrind-demo install format clean bootstrap \
        programs asan-programs
.SUFFIXES:
.SECONDARY:

all: $(LIB) $(BINS) $(TOOLS)
programs: $(BINS)
asan-programs: $(ASAN_BINS)

# ---- compile -------------------------------------------------------------
$(BUILD)/gen/onnx.pb-c.c: $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	cd $(dir $<) && protoc-c --c_out=$(abspath $(BUILD)/gen) $(notdir $<)

$(BUILD)/gen/sentencepiece.pb-c.c: formats/sentencepiece.proto
	@mkdir -p $(BUILD)/gen
	cd formats && protoc-c --c_out=$(abspath $(BUILD)/gen) sentencepiece.proto

$(BUILD)/obj/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ISA_FLAGS_$<) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ISA_FLAGS_$<) $(SAN) -MMD -MP -c $< -o $@

# generated code is not ours: no -Werror on it
$(BUILD)/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g -I$(BUILD)/gen $(PKG_CFLAGS) -c $< -o $@
$(BUILD)/asan/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g $(SAN) -I$(BUILD)/gen $(PKG_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(ASAN_LIB): $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

# program name = main file name with '_' -> '-'
define prog_rule
$(BUILD)/bin/$(subst _,-,$(notdir $(basename $(1)))): $(BUILD)/obj/$(basename $(1)).o $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$^ $$(LDLIBS) -o $$@
$(BUILD)/asan/bin/$(subst _,-,$(notdir $(basename $(1)))): $(BUILD)/asan/$(basename $(1)).o $(ASAN_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(SAN) $$^ $$(LDLIBS) -o $$@
endef
$(foreach m,$(MAINS),$(eval $(call prog_rule,$(m))))

define test_rule
$(BUILD)/tests/$(notdir $(basename $(1))): $(BUILD)/obj/$(basename $(1)).o $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$^ $$(LDLIBS) $$(CHECK_LIBS) -o $$@
$(BUILD)/asan/tests/$(notdir $(basename $(1))): $(BUILD)/asan/$(basename $(1)).o $(ASAN_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(SAN) $$^ $$(LDLIBS) $$(CHECK_LIBS) -o $$@
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rule,$(t))))

define tool_rule
$(BUILD)/$(basename $(1)): $(BUILD)/obj/$(basename $(1)).o $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach t,$(TOOL_SRC),$(eval $(call tool_rule,$(t))))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- tests ---------------------------------------------------------------
bootstrap:
	@scripts/bootstrap check

unit: $(TESTS)
	@scripts/run-unit $(TESTS)

unit-asan: $(ASAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/run-unit $(ASAN_TESTS)

cli: $(BINS) $(ASAN_BINS)
	@BUILD=$(BUILD) tests/cli/run

interop: $(BINS)
	@BUILD=$(BUILD) tests/interop/run

# Builds run on every core even when make was started without -j (as .ci/run does).
NPROC := $(shell nproc 2>/dev/null || echo 2)

# a lower layer never includes a higher one
.PHONY: layers
layers:
	@scripts/check-layers

SUMMARY := $(BUILD)/check-summary
SUITE = scripts/check-suite $(SUMMARY)

# Every suite runs even when one fails; the last line is the total. The
# suites after the build run in two lanes at once (scripts/check-lanes).
check: bootstrap
	@mkdir -p $(BUILD) && rm -f $(SUMMARY)
	@$(SUITE) layers scripts/check-layers
	@$(MAKE) --no-print-directory -j$(NPROC) all $(TESTS) $(ASAN_TESTS) $(ASAN_BINS)
	@scripts/check-lanes $(SUMMARY) $(MAKE) $(NPROC)
	@scripts/check-total $(SUMMARY)

demo:
	@scripts/bootstrap demo
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@BUILD=$(BUILD) scripts/demo

bench: all
	@BUILD=$(BUILD) bench/run

# ---- fuzzing ---------------------------------------------------------------
# fuzz/fuzz_*.c are libFuzzer harnesses (never part of libggufkit.a). They
# link with a copy of the library built by clang with coverage
# instrumentation; fuzz-regress replays fuzz/regress/<harness>/ and the
# generated seeds through the same harnesses linked with fuzz/driver.c and
# the ASan library instead (no libFuzzer needed).
FUZZ_CC  ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZERS  := $(patsubst fuzz/%.c,$(BUILD)/fuzz/bin/%,$(FUZZ_SRC))
REGRESSORS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/regress/%,$(FUZZ_SRC))
FUZZ_OBJ := $(call obj,fuzz/obj,$(LIB_SRC) $(GEN_SRC))
FUZZ_LIB := $(BUILD)/fuzz/libggufkit.a

$(BUILD)/fuzz/obj/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(ISA_FLAGS_$<) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -O2 -g $(FUZZ_SAN) -I$(BUILD)/gen $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/bin/%: fuzz/%.c fuzz/fuzz_util.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

$(BUILD)/fuzz/regress/%: $(BUILD)/asan/fuzz/%.o $(BUILD)/asan/fuzz/driver.o $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) $^ $(LDLIBS) -o $@

# the demo pipeline on a tiny model, every program under Valgrind memcheck
valgrind-demo: all
	@BUILD=$(BUILD) scripts/valgrind-demo

# make fuzz FUZZ_SECONDS=N: seed corpora, then each harness for N seconds
fuzz: $(FUZZERS) $(TOOLS)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run $(notdir $(FUZZERS))

# replay the regression inputs and seeds (ASan+UBSan, no libFuzzer): the
# deterministic part of fuzzing, the one make check runs; exploring new
# inputs is make fuzz
fuzz-regress: $(REGRESSORS) $(TOOLS)
	@BUILD=$(BUILD) fuzz/run --regress $(notdir $(REGRESSORS))

# ---- install -------------------------------------------------------------
# ggufkit.pc is written at install time, straight into DESTDIR, from this
# run's PREFIX/LIBDIR/INCDIR: no file in $(BUILD) can carry an older prefix.
PC_TEXT = prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: ggufkit\nDescription: GGUF, safetensors and quantization kernels\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lggufkit\nLibs.private: -lm -pthread\nCflags: -I$${includedir}\n

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(PKGDIR)
	install -d $(DESTDIR)$(INCDIR)/formats $(DESTDIR)$(INCDIR)/kernels $(DESTDIR)$(INCDIR)/verify
	$(if $(BINS),install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/)
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	$(if $(wildcard docs/*.1),install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(MANDIR)/)
	install -m 644 ggufkit.h $(DESTDIR)$(INCDIR)/
	for h in $(filter-out ggufkit.h,$(HEADERS)); do install -m 644 $$h $(DESTDIR)$(INCDIR)/$$h; done
	printf '$(PC_TEXT)' '$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' \
	  "$$(sed -n 's/^#define GK_VERSION "\(.*\)"/\1/p' ggufkit.h)" '$(PKGS)' > $(DESTDIR)$(PKGDIR)/ggufkit.pc
	chmod 644 $(DESTDIR)$(PKGDIR)/ggufkit.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
