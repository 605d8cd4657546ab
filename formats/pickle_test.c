/* pickle_test.c -- torch.save zip reader: archives and pickles are written
 * byte by byte here, valid ones as torch.save lays them out and hostile ones
 * that must be refused without executing anything. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/pickle.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Byte buffers                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put8(buf *b, unsigned v) {
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}

static void put16(buf *b, unsigned v) {
    put8(b, v & 0xff);
    put8(b, (v >> 8) & 0xff);
}

static void put32(buf *b, uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

static void put64(buf *b, uint64_t v) {
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void puts_(buf *b, const char *s) {
    put(b, s, strlen(s));
}

/* ------------------------------------------------------------------------ */
/* Zip writer (STORED entries, optional zip64 end records)                    */
/* ------------------------------------------------------------------------ */

static uint32_t crc32_test(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

typedef struct {
    const char *name;
    const uint8_t *data;
    size_t len;
    uint16_t method; /* 0 stored; anything else claims compression */
} ent;

/* Archive of n entries; zip64 1 adds the zip64 end record and locator, 2
 * also moves sizes and offsets of central entries into zip64 extra fields
 * (as for entries past 4 GB). */
static buf make_zip(const ent *e, int n, int zip64) {
    buf z = {0};
    uint32_t offs[32];
    ck_assert_int_le(n, 32);
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)z.n;
        put32(&z, 0x04034b50u);
        put16(&z, 20);
        put16(&z, 0);
        put16(&z, e[i].method);
        put32(&z, 0);
        put32(&z, crc32_test(e[i].data, e[i].len));
        put32(&z, (uint32_t)e[i].len);
        put32(&z, (uint32_t)e[i].len);
        put16(&z, (unsigned)strlen(e[i].name));
        put16(&z, 0);
        puts_(&z, e[i].name);
        put(&z, e[i].data, e[i].len);
    }
    size_t cd = z.n;
    for (int i = 0; i < n; i++) {
        put32(&z, 0x02014b50u);
        put16(&z, 20);
        put16(&z, 20);
        put16(&z, 0);
        put16(&z, e[i].method);
        put32(&z, 0);
        put32(&z, crc32_test(e[i].data, e[i].len));
        put32(&z, zip64 == 2 ? 0xFFFFFFFFu : (uint32_t)e[i].len);
        put32(&z, zip64 == 2 ? 0xFFFFFFFFu : (uint32_t)e[i].len);
        put16(&z, (unsigned)strlen(e[i].name));
        put16(&z, zip64 == 2 ? 4 + 4 + 24 : 0);
        put16(&z, 0);
        put16(&z, 0);
        put16(&z, 0);
        put32(&z, 0);
        put32(&z, zip64 == 2 ? 0xFFFFFFFFu : offs[i]);
        puts_(&z, e[i].name);
        if (zip64 == 2) {
            /* an unrelated extra block first, then zip64: usize, csize, offset */
            put16(&z, 0x5455);
            put16(&z, 0);
            put16(&z, 1);
            put16(&z, 24);
            put64(&z, e[i].len);
            put64(&z, e[i].len);
            put64(&z, offs[i]);
        }
    }
    size_t cd_size = z.n - cd;
    if (zip64) {
        size_t z64 = z.n;
        put32(&z, 0x06064b50u);
        put64(&z, 44);
        put16(&z, 45);
        put16(&z, 45);
        put32(&z, 0);
        put32(&z, 0);
        put64(&z, (uint64_t)n);
        put64(&z, (uint64_t)n);
        put64(&z, cd_size);
        put64(&z, cd);
        put32(&z, 0x07064b50u);
        put32(&z, 0);
        put64(&z, z64);
        put32(&z, 1);
    }
    put32(&z, 0x06054b50u);
    put16(&z, 0);
    put16(&z, 0);
    put16(&z, zip64 ? 0xFFFF : (unsigned)n);
    put16(&z, zip64 ? 0xFFFF : (unsigned)n);
    put32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_size);
    put32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)cd);
    put16(&z, 0);
    return z;
}

/* ------------------------------------------------------------------------ */
/* Pickle writer                                                              */
/* ------------------------------------------------------------------------ */

static void pk_str(buf *b, const char *s) { /* BINUNICODE */
    put8(b, 'X');
    put32(b, (uint32_t)strlen(s));
    puts_(b, s);
}

static void pk_int(buf *b, uint32_t v) {
    if (v < 256) {
        put8(b, 'K');
        put8(b, v);
    } else if (v < 65536) {
        put8(b, 'M');
        put16(b, v);
    } else {
        put8(b, 'J');
        put32(b, v);
    }
}

static void pk_global(buf *b, const char *mod, const char *name) {
    put8(b, 'c');
    puts_(b, mod);
    put8(b, '\n');
    puts_(b, name);
    put8(b, '\n');
}

typedef struct {
    const char *name, *storage_cls, *key;
    uint32_t numel, offset, n_dims;
    uint32_t shape[4], stride[4];
} tdesc;

/* One state_dict entry as torch.save (protocol 2) writes it. */
static void pk_tensor(buf *b, const tdesc *t) {
    pk_str(b, t->name);
    pk_global(b, "torch._utils", "_rebuild_tensor_v2");
    put8(b, '(');
    put8(b, '(');
    pk_str(b, "storage");
    pk_global(b, "torch", t->storage_cls);
    pk_str(b, t->key);
    pk_str(b, "cpu");
    pk_int(b, t->numel);
    put8(b, 't');
    put8(b, 'Q'); /* BINPERSID */
    pk_int(b, t->offset);
    put8(b, '(');
    for (uint32_t d = 0; d < t->n_dims; d++)
        pk_int(b, t->shape[d]);
    put8(b, 't');
    put8(b, '(');
    for (uint32_t d = 0; d < t->n_dims; d++)
        pk_int(b, t->stride[d]);
    put8(b, 't');
    put8(b, 0x89); /* NEWFALSE */
    put8(b, 'h');  /* BINGET 0: the OrderedDict global */
    put8(b, 0);
    put8(b, ')');
    put8(b, 'R');
    put8(b, 't');
    put8(b, 'R');
}

/* PROTO 2, OrderedDict() memoized as 0 (its global) and 1 (the dict),
 * MARK, entries, SETITEMS, a _metadata BUILD, STOP. */
static buf pk_state_dict(const tdesc *t, int n) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 2);
    pk_global(&b, "collections", "OrderedDict");
    put8(&b, 'q');
    put8(&b, 0);
    put8(&b, ')');
    put8(&b, 'R');
    put8(&b, 'q');
    put8(&b, 1);
    put8(&b, '(');
    for (int i = 0; i < n; i++)
        pk_tensor(&b, &t[i]);
    put8(&b, 'u');
    put8(&b, '}');
    pk_str(&b, "_metadata");
    put8(&b, 'h');
    put8(&b, 0);
    put8(&b, ')');
    put8(&b, 'R');
    put8(&b, 's');
    put8(&b, 'b');
    put8(&b, '.');
    return b;
}

/* ------------------------------------------------------------------------ */
/* Checkpoint fixtures                                                        */
/* ------------------------------------------------------------------------ */

/* Storage bytes: storage k holds bytes 16*k + i. */
static uint8_t storage_bytes[3][64];

static void fill_storages(void) {
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 64; i++)
            storage_bytes[k][i] = (uint8_t)(16 * k + i);
}

static const tdesc std_tensors[] = {
    {"w.f32", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
    {"w.f16", "HalfStorage", "1", 4, 0, 1, {4}, {1}},
    /* a view: elements 2..5 of a 6-element storage */
    {"w.bf16", "BFloat16Storage", "2", 6, 2, 2, {2, 2}, {2, 1}},
};

/* The standard three-tensor checkpoint around pickle pk. */
static buf ckpt_with(const buf *pk, int zip64) {
    fill_storages();
    ent e[] = {
        {"archive/data.pkl", pk->p, pk->n, 0},
        {"archive/byteorder", (const uint8_t *)"little", 6, 0},
        {"archive/data/0", storage_bytes[0], 24, 0},
        {"archive/data/1", storage_bytes[1], 8, 0},
        {"archive/data/2", storage_bytes[2], 12, 0},
        {"archive/version", (const uint8_t *)"3\n", 2, 0},
    };
    return make_zip(e, 6, zip64);
}

/* Offset of data.pkl's first byte in ckpt_with archives (first entry). */
#define PKL_AT (30 + 16)

static fmt_pt *open_ok(const buf *z) {
    gk_status st = GK_E_IO;
    fmt_pt *p = fmt_pt_open_mem(z->p, z->n, "ckpt.bin", &st);
    ck_assert_msg(p != NULL, "open failed: %s", fmt_pt_open_errmsg());
    ck_assert_int_eq(st, GK_OK);
    return p;
}

static void expect_fail(const buf *z, gk_status code, const char *frag1, const char *frag2) {
    gk_status st = GK_OK;
    fmt_pt *p = fmt_pt_open_mem(z->p, z->n, "ckpt.bin", &st);
    ck_assert_ptr_null(p);
    const char *msg = fmt_pt_open_errmsg();
    ck_assert_msg(st == code, "status %d, want %d: %s", st, code, msg);
    ck_assert_msg(strstr(msg, frag1) != NULL, "message '%s' lacks '%s'", msg, frag1);
    if (frag2)
        ck_assert_msg(strstr(msg, frag2) != NULL, "message '%s' lacks '%s'", msg, frag2);
}

/* Wrap a (hostile) pickle into the standard archive and expect failure. */
static void expect_pickle_fail(buf *pk, gk_status code, const char *frag1, const char *frag2) {
    buf z = ckpt_with(pk, 0);
    expect_fail(&z, code, frag1, frag2);
    free(z.p);
    free(pk->p);
}

/* ------------------------------------------------------------------------ */
/* Valid checkpoints                                                          */
/* ------------------------------------------------------------------------ */

static void check_std(const fmt_pt *p, const buf *z) {
    ck_assert_str_eq(fmt_pt_prefix(p), "archive");
    ck_assert_uint_eq(fmt_pt_n_tensors(p), 3);
    const fmt_pt_tensor *a = fmt_pt_tensor_at(p, 0), *b = fmt_pt_tensor_at(p, 1),
                        *c = fmt_pt_tensor_at(p, 2);
    ck_assert_ptr_null(fmt_pt_tensor_at(p, 3));
    ck_assert_str_eq(a->name, "w.f32");
    ck_assert_int_eq(a->dtype, FMT_ST_F32);
    ck_assert_uint_eq(a->n_dims, 2);
    ck_assert_int_eq(a->shape[0], 2);
    ck_assert_int_eq(a->shape[1], 3);
    ck_assert_int_eq(a->strides[0], 3);
    ck_assert_uint_eq(a->n_elements, 6);
    ck_assert_uint_eq(a->size, 24);
    ck_assert_str_eq(a->storage_key, "0");
    ck_assert_mem_eq(a->data, storage_bytes[0], 24);
    ck_assert_ptr_eq(a->data, z->p + a->offset);
    ck_assert_int_eq(b->dtype, FMT_ST_F16);
    ck_assert_uint_eq(b->size, 8);
    ck_assert_mem_eq(b->data, storage_bytes[1], 8);
    ck_assert_int_eq(c->dtype, FMT_ST_BF16);
    ck_assert_uint_eq(c->storage_offset, 2);
    ck_assert_uint_eq(c->size, 8);
    ck_assert_mem_eq(c->data, storage_bytes[2] + 4, 8); /* 2 elements * 2 bytes in */
    ck_assert_ptr_eq(fmt_pt_find(p, "w.bf16"), c);
    ck_assert_ptr_eq(fmt_pt_find(p, "w.f32"), a);
    ck_assert_ptr_null(fmt_pt_find(p, "w"));
}

START_TEST(test_valid_protocol2) {
    buf pk = pk_state_dict(std_tensors, 3);
    buf z = ckpt_with(&pk, 0);
    fmt_pt *p = open_ok(&z);
    check_std(p, &z);
    fmt_pt_close(p);
    fmt_pt_close(NULL);
    free(z.p);
    free(pk.p);
}
END_TEST

START_TEST(test_valid_zip64) {
    buf pk = pk_state_dict(std_tensors, 3);
    for (int mode = 1; mode <= 2; mode++) {
        buf z = ckpt_with(&pk, mode);
        fmt_pt *p = open_ok(&z);
        check_std(p, &z);
        fmt_pt_close(p);
        free(z.p);
    }
    free(pk.p);
}
END_TEST

START_TEST(test_zip64_bad) {
    buf pk = pk_state_dict(std_tensors, 3);
    buf z = ckpt_with(&pk, 2);
    /* zip64 extra block cut short: sizes saturated but not supplied */
    size_t eocd = z.n - 22, loc = eocd - 20, z64 = loc - 56;
    uint64_t cd = 0;
    for (int i = 7; i >= 0; i--)
        cd = cd << 8 | z.p[z64 + 48 + i];
    z.p[cd + 46 + 16 + 4 + 2] = 8; /* zip64 block size 24 -> 8 */
    expect_fail(&z, GK_E_FORMAT, "zip64 extra field too short", NULL);
    z.p[cd + 46 + 16 + 4 + 2] = 24;
    /* locator pointing at something that is not a zip64 end record */
    z.p[loc + 8] ^= 4;
    expect_fail(&z, GK_E_FORMAT, "zip64 end of central directory record missing", NULL);
    z.p[loc + 8] ^= 4;
    /* zip64 entry count disagreeing with the directory */
    z.p[z64 + 32] = 200;
    z.p[z64 + 24] = 200;
    expect_fail(&z, GK_E_FORMAT, "entries cannot fit", NULL);
    free(z.p);
    /* saturated EOCD fields without any zip64 record */
    buf y = ckpt_with(&pk, 1);
    memset(y.p + y.n - 42, 0, 20); /* wipe the locator */
    expect_fail(&y, GK_E_FORMAT, "zip64 markers but no zip64 record", NULL);
    free(y.p);
    free(pk.p);
}
END_TEST

/* Protocol 4 spellings: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE,
 * TUPLE1/2, LONG1, a plain dict, a nested dict and a scalar leaf. */
START_TEST(test_valid_protocol4) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 4);
    put8(&b, 0x95);
    put64(&b, 0); /* frame length is only a hint */
    put8(&b, '}');
    put8(&b, 0x94); /* memo 0: the outer dict */
    put8(&b, 0x8c);
    put8(&b, 5);
    puts_(&b, "model");
    put8(&b, '}'); /* nested dict */
    put8(&b, 0x8c);
    put8(&b, 1);
    puts_(&b, "w");
    put8(&b, 0x8c);
    put8(&b, 12);
    puts_(&b, "torch._utils");
    put8(&b, 0x8c);
    put8(&b, 18);
    puts_(&b, "_rebuild_tensor_v2");
    put8(&b, 0x93); /* STACK_GLOBAL */
    put8(&b, '(');  /* arguments */
    put8(&b, '(');  /* persistent id */
    put8(&b, 0x8c);
    put8(&b, 7);
    puts_(&b, "storage");
    put8(&b, 0x8c);
    put8(&b, 5);
    puts_(&b, "torch");
    put8(&b, 0x8c);
    put8(&b, 12);
    puts_(&b, "FloatStorage");
    put8(&b, 0x93);
    put8(&b, 0x8c);
    put8(&b, 1);
    puts_(&b, "0");
    put8(&b, 0x8c);
    put8(&b, 3);
    puts_(&b, "cpu");
    put8(&b, 0x8a); /* LONG1 6 */
    put8(&b, 1);
    put8(&b, 6);
    put8(&b, 't');
    put8(&b, 'Q');
    put8(&b, 'K');
    put8(&b, 0);
    put8(&b, 'K');
    put8(&b, 6);
    put8(&b, 0x85); /* size (6,) */
    put8(&b, 'K');
    put8(&b, 1);
    put8(&b, 0x85); /* stride (1,) */
    put8(&b, 0x88); /* NEWTRUE */
    put8(&b, '}');
    put8(&b, 't');
    put8(&b, 'R');
    put8(&b, 's'); /* nested["w"] = tensor */
    put8(&b, 's'); /* outer["model"] = nested */
    put8(&b, 0x8c);
    put8(&b, 5);
    puts_(&b, "epoch");
    put8(&b, 'K');
    put8(&b, 3);
    put8(&b, 's');
    put8(&b, '.');
    buf z = ckpt_with(&b, 0);
    fmt_pt *p = open_ok(&z);
    ck_assert_uint_eq(fmt_pt_n_tensors(p), 1);
    const fmt_pt_tensor *t = fmt_pt_find(p, "model.w");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->n_elements, 6);
    ck_assert_mem_eq(t->data, storage_bytes[0], 24);
    fmt_pt_close(p);
    free(z.p);
    free(b.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hostile pickles                                                            */
/* ------------------------------------------------------------------------ */

/* PROTO 2 then an import of mod.name by GLOBAL, called with ("id",). */
static buf pk_call(const char *mod, const char *name) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 2);
    pk_global(&b, mod, name);
    pk_str(&b, "id");
    put8(&b, 0x85);
    put8(&b, 'R');
    put8(&b, '.');
    return b;
}

START_TEST(test_hostile_global) {
    static const char *bad[][2] = {
        {"os", "system"},
        {"posix", "system"},
        {"nt", "system"},
        {"builtins", "eval"},
        {"__builtin__", "exec"},
        {"subprocess", "Popen"},
        {"torch", "load"},
        {"collections", "defaultdict"},
        {"torch._utils", "_rebuild_qtensor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[128];
        snprintf(want, sizeof want, "pickle imports '%s.%s', which is not allowed (at byte %d)",
                 bad[i][0], bad[i][1], PKL_AT + 2);
        buf pk = pk_call(bad[i][0], bad[i][1]);
        expect_pickle_fail(&pk, GK_E_FORMAT, want, "ckpt.bin: archive/data.pkl: ");
    }
}
END_TEST

START_TEST(test_hostile_stack_global) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 4);
    put8(&b, 0x8c);
    put8(&b, 8);
    puts_(&b, "builtins");
    put8(&b, 0x8c);
    put8(&b, 4);
    puts_(&b, "eval");
    put8(&b, 0x93);
    pk_str(&b, "__import__('os').system('touch /tmp/pwned')");
    put8(&b, 0x85);
    put8(&b, 'R');
    put8(&b, '.');
    char want[96];
    snprintf(want, sizeof want, "'builtins.eval', which is not allowed (at byte %d)", PKL_AT + 18);
    expect_pickle_fail(&b, GK_E_FORMAT, want, NULL);
}
END_TEST

START_TEST(test_hostile_global_control_chars) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 2);
    put8(&b, 'c');
    put(&b, "o\x1b[2Js\nsystem\n", 14);
    put8(&b, '.');
    expect_pickle_fail(&b, GK_E_FORMAT, "'o?[2Js.system'", NULL);
    /* no newline within a sane length */
    buf c = {0};
    put8(&c, 'c');
    for (int i = 0; i < 300; i++)
        put8(&c, 'a');
    expect_pickle_fail(&c, GK_E_FORMAT, "not terminated by a newline", NULL);
}
END_TEST

START_TEST(test_unknown_opcode) {
    buf b = {0};
    put8(&b, 0x80);
    put8(&b, 2);
    put8(&b, 0xff);
    char want[64];
    snprintf(want, sizeof want, "unknown pickle opcode 0xff (at byte %d)", PKL_AT + 2);
    expect_pickle_fail(&b, GK_E_FORMAT, want, NULL);
    /* real opcodes that could instantiate objects are simply not there */
    static const uint8_t unsupported[] = {0x81, 'i', 'o', 0x92, 'P'};
    for (size_t i = 0; i < sizeof unsupported; i++) {
        buf c = {0};
        put8(&c, ')');
        put8(&c, unsupported[i]);
        expect_pickle_fail(&c, GK_E_UNSUPPORTED, "is not supported (at byte", NULL);
    }
}
END_TEST

START_TEST(test_memo_out_of_range) {
    buf b = {0};
    put8(&b, 'h');
    put8(&b, 5);
    expect_pickle_fail(&b, GK_E_FORMAT, "memo index 5 was never stored", NULL);
    buf c = {0};
    put8(&c, ')');
    put8(&c, 'r');
    put32(&c, 0xFFFFFFFFu);
    expect_pickle_fail(&c, GK_E_FORMAT, "memo index 4294967295 out of range", NULL);
    buf d = {0};
    put8(&d, 'j');
    put32(&d, 0x7FFFFFFFu);
    expect_pickle_fail(&d, GK_E_FORMAT, "was never stored", NULL);
    buf e = {0};
    put8(&e, 'q');
    put8(&e, 0);
    expect_pickle_fail(&e, GK_E_FORMAT, "memo store with an empty stack", NULL);
}
END_TEST

START_TEST(test_truncated) {
    /* every proper prefix of a valid pickle is refused cleanly */
    buf full = pk_state_dict(std_tensors, 3);
    for (size_t cut = 0; cut < full.n; cut++) {
        buf pk = {0};
        put(&pk, full.p, cut);
        buf z = ckpt_with(&pk, 0);
        gk_status st = GK_OK;
        fmt_pt *p = fmt_pt_open_mem(z.p, z.n, "ckpt.bin", &st);
        ck_assert_msg(p == NULL && st == GK_E_FORMAT, "cut at %zu: st %d", cut, st);
        free(z.p);
        free(pk.p);
    }
    buf pk = {0};
    put(&pk, full.p, full.n - 1);
    expect_pickle_fail(&pk, GK_E_FORMAT, "pickle truncated: no STOP opcode", NULL);
    free(full.p);
    buf b = {0};
    put8(&b, 'J');
    put8(&b, 1);
    expect_pickle_fail(&b, GK_E_FORMAT, "pickle truncated: opcode needs 4 more bytes", NULL);
}
END_TEST

START_TEST(test_stack_underflow) {
    static const uint8_t ops[] = {'R', 's', 'a', 'b', 'Q', 0x86, '.', '0', '2', 0x93};
    for (size_t i = 0; i < sizeof ops; i++) {
        buf b = {0};
        put8(&b, 0x80);
        put8(&b, 2);
        put8(&b, ops[i]);
        expect_pickle_fail(&b, GK_E_FORMAT, "pickle stack underflow", "(at byte 48)");
    }
    /* a MARK hides what is below it */
    buf c = {0};
    put8(&c, ')');
    put8(&c, ')');
    put8(&c, '(');
    put8(&c, 'R');
    expect_pickle_fail(&c, GK_E_FORMAT, "underflow in REDUCE", NULL);
    buf d = {0};
    put8(&d, 't');
    expect_pickle_fail(&d, GK_E_FORMAT, "TUPLE without a MARK", NULL);
    buf e = {0};
    put8(&e, '(');
    put8(&e, 'u');
    expect_pickle_fail(&e, GK_E_FORMAT, "SETITEMS without a dict below its MARK", NULL);
}
END_TEST

START_TEST(test_huge_string) {
    buf b = {0};
    put8(&b, 'X');
    put32(&b, 0xFFFFFFFFu);
    puts_(&b, "abc");
    expect_pickle_fail(&b, GK_E_FORMAT, "string of 4294967295 bytes runs past the end", NULL);
    buf c = {0};
    put8(&c, 0x8d); /* BINUNICODE8 */
    put64(&c, UINT64_MAX);
    expect_pickle_fail(&c, GK_E_FORMAT, "runs past the end", NULL);
    buf d = {0};
    put8(&d, 0x8a); /* LONG1 of 200 bytes */
    put8(&d, 200);
    expect_pickle_fail(&d, GK_E_UNSUPPORTED, "integer of 200 bytes", NULL);
    buf e = {0};
    put8(&e, 0x95);
    put64(&e, 1ull << 40);
    expect_pickle_fail(&e, GK_E_FORMAT, "FRAME of", NULL);
}
END_TEST

START_TEST(test_mark_depth) {
    buf b = {0};
    for (int i = 0; i < 300; i++)
        put8(&b, '(');
    expect_pickle_fail(&b, GK_E_FORMAT, "MARKs nested deeper than 256", NULL);
}
END_TEST

START_TEST(test_bad_calls) {
    /* calling a storage class is not building one */
    buf b = {0};
    pk_global(&b, "torch", "FloatStorage");
    put8(&b, ')');
    put8(&b, 'R');
    expect_pickle_fail(&b, GK_E_FORMAT, "REDUCE calls torch.FloatStorage, which is not callable",
                       NULL);
    buf c = {0};
    pk_str(&c, "os.system");
    put8(&c, ')');
    put8(&c, 'R');
    expect_pickle_fail(&c, GK_E_FORMAT, "REDUCE calls a str", NULL);
    buf d = {0};
    pk_global(&d, "torch._utils", "_rebuild_tensor_v2");
    put8(&d, 'K');
    put8(&d, 1);
    put8(&d, 0x85);
    put8(&d, 'R');
    expect_pickle_fail(&d, GK_E_FORMAT, "_rebuild_tensor_v2 called with 1 arguments", NULL);
    buf f = {0};
    put8(&f, '(');
    pk_str(&f, "storage");
    pk_global(&f, "collections", "OrderedDict");
    pk_str(&f, "0");
    pk_str(&f, "cpu");
    put8(&f, 'K');
    put8(&f, 1);
    put8(&f, 't');
    put8(&f, 'Q');
    expect_pickle_fail(&f, GK_E_FORMAT, "persistent id names a OrderedDict, not a storage class",
                       NULL);
    buf g = {0};
    put8(&g, 'K');
    put8(&g, 1);
    put8(&g, '.');
    expect_pickle_fail(&g, GK_E_UNSUPPORTED, "pickle holds a int, not a state_dict", NULL);
}
END_TEST

/* A dict that contains itself must not hang or recurse without bound; a
 * dict tree shared through the memo must not expand exponentially. */
START_TEST(test_cycles_and_sharing) {
    buf b = {0};
    put8(&b, '}');
    put8(&b, 'q');
    put8(&b, 0);
    pk_str(&b, "self");
    put8(&b, 'h');
    put8(&b, 0);
    put8(&b, 's');
    put8(&b, '.');
    expect_pickle_fail(&b, GK_E_UNSUPPORTED, "dicts nested deeper than 16", NULL);

    buf c = {0};
    put8(&c, '}');
    put8(&c, 'q');
    put8(&c, 0);
    for (int level = 1; level < 16; level++) {
        put8(&c, '}');
        put8(&c, '(');
        for (int k = 0; k < 8; k++) {
            char key[2] = {(char)('a' + k), 0};
            pk_str(&c, key);
            put8(&c, 'h');
            put8(&c, (unsigned)(level - 1));
        }
        put8(&c, 'u');
        put8(&c, 'q');
        put8(&c, (unsigned)level);
    }
    put8(&c, '.');
    expect_pickle_fail(&c, GK_E_FORMAT, "expands to more entries than the pickle holds", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Tensor records                                                             */
/* ------------------------------------------------------------------------ */

static void expect_tensor_fail(const tdesc *t, gk_status code, const char *frag) {
    buf pk = pk_state_dict(t, 1);
    expect_pickle_fail(&pk, code, frag, NULL);
}

START_TEST(test_tensor_checks) {
    tdesc t = {"nc", "FloatStorage", "0", 6, 0, 2, {2, 3}, {1, 2}};
    expect_tensor_fail(&t, GK_E_UNSUPPORTED, "tensor 'nc' is not contiguous: stride[1] is 2");
    tdesc u = {"big", "FloatStorage", "0", 6, 2, 2, {2, 3}, {3, 1}};
    expect_tensor_fail(&u, GK_E_FORMAT, "tensor 'big': elements [2, +6) exceed its storage of 6");
    tdesc v = {"nokey", "FloatStorage", "9", 6, 0, 1, {6}, {1}};
    expect_tensor_fail(&v, GK_E_FORMAT, "storage entry 'archive/data/9' is not in the archive");
    tdesc w = {"size", "FloatStorage", "1", 6, 0, 1, {6}, {1}};
    expect_tensor_fail(&w, GK_E_FORMAT, "storage '1' holds 8 bytes, 6 F32 elements need 24");
    /* size-1 dimensions may carry any stride */
    tdesc x = {"ok", "FloatStorage", "0", 6, 0, 3, {2, 1, 3}, {3, 99, 1}};
    buf pk = pk_state_dict(&x, 1);
    buf z = ckpt_with(&pk, 0);
    fmt_pt *p = open_ok(&z);
    ck_assert_uint_eq(fmt_pt_tensor_at(p, 0)->n_elements, 6);
    fmt_pt_close(p);
    free(z.p);
    free(pk.p);
    /* the same name twice */
    tdesc two[2] = {std_tensors[0], std_tensors[0]};
    buf pk2 = pk_state_dict(two, 2);
    expect_pickle_fail(&pk2, GK_E_FORMAT, "tensor 'w.f32' appears twice", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Zip container                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(test_zip_compressed) {
    buf pk = pk_state_dict(std_tensors, 1);
    ent e[] = {{"archive/data.pkl", pk.p, pk.n, 0}, {"archive/data/0", storage_bytes[0], 24, 8}};
    buf z = make_zip(e, 2, 0);
    expect_fail(&z, GK_E_UNSUPPORTED, "entry 'archive/data/0' is compressed (method 8)",
                "(at byte");
    free(z.p);
    free(pk.p);
}
END_TEST

START_TEST(test_zip_not_zip) {
    buf b = {0};
    puts_(&b, "this is not a zip archive at all, just text.");
    expect_fail(&b, GK_E_FORMAT, "no end of central directory record", NULL);
    free(b.p);
    buf t = {0};
    puts_(&t, "PK");
    expect_fail(&t, GK_E_FORMAT, "too small to be a zip archive", NULL);
    free(t.p);
    /* the pre-1.6 format is a bare pickle stream */
    buf l = {0};
    put8(&l, 0x80);
    put8(&l, 2);
    put8(&l, 0x8a);
    puts_(&l, "\x0al\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
    expect_fail(&l, GK_E_UNSUPPORTED, "legacy torch.save format", NULL);
    free(l.p);
}
END_TEST

START_TEST(test_zip_truncated) {
    buf pk = pk_state_dict(std_tensors, 3);
    buf z = ckpt_with(&pk, 0);
    for (size_t cut = 0; cut < z.n; cut += 7) {
        gk_status st = GK_OK;
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, z.p, cut);
        fmt_pt *p = fmt_pt_open_mem(copy, cut, "ckpt.bin", &st);
        ck_assert_msg(p == NULL && st != GK_OK, "cut at %zu opened", cut);
        free(copy);
    }
    free(z.p);
    free(pk.p);
}
END_TEST

START_TEST(test_zip_bad_offsets) {
    buf pk = pk_state_dict(std_tensors, 3);
    buf z = ckpt_with(&pk, 0);
    size_t eocd = z.n - 22;
    uint8_t save[4];
    /* central directory offset past the end record */
    memcpy(save, z.p + eocd + 16, 4);
    memset(z.p + eocd + 16, 0x7f, 4);
    expect_fail(&z, GK_E_FORMAT, "central directory", "runs past its end record");
    memcpy(z.p + eocd + 16, save, 4);
    /* entry count that cannot fit */
    z.p[eocd + 8] = z.p[eocd + 10] = 0xF0;
    expect_fail(&z, GK_E_FORMAT, "entries cannot fit", NULL);
    z.p[eocd + 8] = z.p[eocd + 10] = 6;
    /* first central entry's local header offset pointing nowhere */
    uint32_t cd = (uint32_t)z.p[eocd + 16] | (uint32_t)z.p[eocd + 17] << 8;
    z.p[cd + 42] = 5;
    expect_fail(&z, GK_E_FORMAT, "no local header at 5", NULL);
    z.p[cd + 42] = 0;
    /* an entry size running into the central directory */
    memcpy(save, z.p + cd + 20, 4);
    memset(z.p + cd + 20, 0x10, 4);
    memset(z.p + cd + 24, 0x10, 4);
    expect_fail(&z, GK_E_FORMAT, "run into the central directory", NULL);
    memcpy(z.p + cd + 20, save, 4);
    memcpy(z.p + cd + 24, save, 4);
    /* CRC of data.pkl */
    z.p[PKL_AT + 5] ^= 1;
    expect_fail(&z, GK_E_FORMAT, "archive/data.pkl: CRC-32 mismatch", NULL);
    z.p[PKL_AT + 5] ^= 1;
    fmt_pt *p = open_ok(&z);
    fmt_pt_close(p);
    /* local name differs from the central one */
    z.p[30] = 'X';
    expect_fail(&z, GK_E_FORMAT, "local header disagrees", NULL);
    free(z.p);
    free(pk.p);
}
END_TEST

START_TEST(test_zip_structure) {
    buf pk = pk_state_dict(std_tensors, 1);
    ent none[] = {{"archive/other.pkl", pk.p, pk.n, 0}};
    buf z = make_zip(none, 1, 0);
    expect_fail(&z, GK_E_FORMAT, "no <name>/data.pkl", NULL);
    free(z.p);
    ent two[] = {{"a/data.pkl", pk.p, pk.n, 0}, {"b/data.pkl", pk.p, pk.n, 0}};
    z = make_zip(two, 2, 0);
    expect_fail(&z, GK_E_FORMAT, "more than one data.pkl", NULL);
    free(z.p);
    ent dup[] = {{"archive/data.pkl", pk.p, pk.n, 0}, {"archive/data.pkl", pk.p, pk.n, 0}};
    z = make_zip(dup, 2, 0);
    expect_fail(&z, GK_E_FORMAT, "entry 'archive/data.pkl' appears twice", NULL);
    free(z.p);
    ent big[] = {{"archive/data.pkl", pk.p, pk.n, 0},
                 {"archive/byteorder", (const uint8_t *)"big", 3, 0},
                 {"archive/data/0", storage_bytes[0], 24, 0}};
    z = make_zip(big, 3, 0);
    expect_fail(&z, GK_E_UNSUPPORTED, "big-endian checkpoints are not supported", NULL);
    free(z.p);
    free(pk.p);
}
END_TEST

/* fmt_pt_open maps a real file. */
START_TEST(test_open_file) {
    buf pk = pk_state_dict(std_tensors, 3);
    buf z = ckpt_with(&pk, 0);
    char path[] = "/tmp/pickle_test.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, z.p, z.n), (ssize_t)z.n);
    close(fd);
    gk_status st = GK_E_IO;
    fmt_pt *p = fmt_pt_open(path, &st);
    ck_assert_msg(p != NULL, "%s", fmt_pt_open_errmsg());
    ck_assert_uint_eq(fmt_pt_n_tensors(p), 3);
    ck_assert_mem_eq(fmt_pt_find(p, "w.f16")->data, storage_bytes[1], 8);
    fmt_pt_close(p);
    unlink(path);
    p = fmt_pt_open(path, &st);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(st, GK_E_IO);
    ck_assert_ptr_nonnull(strstr(fmt_pt_open_errmsg(), "cannot open"));
    free(z.p);
    free(pk.p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("pickle");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, test_valid_protocol2, test_valid_zip64, test_zip64_bad, test_valid_protocol4,
                   test_hostile_global, test_hostile_stack_global,
                   test_hostile_global_control_chars, test_unknown_opcode, test_memo_out_of_range,
                   test_truncated, test_stack_underflow, test_huge_string, test_mark_depth,
                   test_bad_calls, test_cycles_and_sharing, test_tensor_checks, test_zip_compressed,
                   test_zip_not_zip, test_zip_truncated, test_zip_bad_offsets, test_zip_structure,
                   test_open_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
