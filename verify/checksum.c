/*
 * checksum.c -- digests of tensor data: XXH64, XXH3-64 and XXH3-128 through
 * libxxhash, SHA-1 and SHA-256 through libcrypto's EVP, and the UUIDv5 of
 * llama-gguf-hash; hashing of a whole GGUF model per tensor and as one
 * stream, spread over threads.
 *
 * llama-gguf-hash's whole-model digest is one stream over every tensor's
 * data in tensor-info order (no padding, no header), so it cannot be split
 * across threads. On a mapped file each whole-model kind is one job and
 * the per-tensor digests are further jobs, in file order: with two threads
 * the stream and the per-tensor pass run side by side over the page cache,
 * at the same place, so memory is read once for both (largest tensor
 * first took 0.17 s against 0.14 s on 627 MB, each stream fetching its own
 * bytes). With one thread (or a pipe) a single fused pass feeds every
 * digest from the same cache-sized chunk, so memory is read once, and the
 * two XXH64 streams of the default manifest share one pass (xxh64.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "formats/pool.h"
#include "verify/verify.h"
#include "formats/manifest.h"
#include "verify/verify_internal.h"

/* Bytes fed to all digests of a fused pass at a time: fits in L2. */
#define FUSED_CHUNK (256u << 10)
/* Bytes a whole-model job hashes between progress updates. */
#define STREAM_CHUNK (8u << 20)
/* Bytes read from a stream at a time. */
#define READ_CHUNK (1u << 20)

const uint8_t vfy_uuid_namespace[16] = {0xef, 0x00, 0x12, 0x06, 0xda, 0xdc, 0x5f, 0x6d,
                                        0xa1, 0x5f, 0x33, 0x59, 0xe5, 0x77, 0xd4, 0xe5};

/* The kind names and digest lengths are the manifest format's
 * (formats/manifest.h); the two enums share their numbering. */
const char *vfy_hash_name(vfy_hash_kind k) {
    return fmt_manifest_kind_name((fmt_manifest_kind)k);
}

int vfy_hash_from_name(const char *name, size_t len) {
    return fmt_manifest_kind_from_name(name, len);
}

size_t vfy_hash_hex_len(vfy_hash_kind k) {
    return fmt_manifest_digest_len((fmt_manifest_kind)k);
}

/* ------------------------------------------------------------------------ */
/* Hashers                                                                    */
/* ------------------------------------------------------------------------ */

struct vfy_hasher {
    vfy_hash_kind kind;
    XXH64_state_t *x64;
    XXH3_state_t *x3;
    EVP_MD_CTX *md;
};

static void reset(vfy_hasher *h) {
    switch (h->kind) {
    case VFY_HASH_XXH64: XXH64_reset(h->x64, 0); break;
    case VFY_HASH_XXH3: XXH3_64bits_reset(h->x3); break;
    case VFY_HASH_XXH128: XXH3_128bits_reset(h->x3); break;
    case VFY_HASH_SHA1:
    case VFY_HASH_UUID:
        EVP_DigestInit_ex(h->md, EVP_sha1(), NULL);
        if (h->kind == VFY_HASH_UUID)
            EVP_DigestUpdate(h->md, vfy_uuid_namespace, sizeof vfy_uuid_namespace);
        break;
    case VFY_HASH_SHA256: EVP_DigestInit_ex(h->md, EVP_sha256(), NULL); break;
    case VFY_HASH_COUNT: break;
    }
}

vfy_hasher *vfy_hasher_new(vfy_hash_kind k, gk_status *st) {
    if ((unsigned)k >= VFY_HASH_COUNT) {
        *st = GK_E_USAGE;
        return NULL;
    }
    vfy_hasher *h = calloc(1, sizeof *h);
    if (!h) {
        *st = GK_E_NOMEM;
        return NULL;
    }
    h->kind = k;
    int ok;
    if (k == VFY_HASH_XXH64)
        ok = (h->x64 = XXH64_createState()) != NULL;
    else if (k == VFY_HASH_XXH3 || k == VFY_HASH_XXH128)
        ok = (h->x3 = XXH3_createState()) != NULL;
    else
        ok = (h->md = EVP_MD_CTX_new()) != NULL;
    if (!ok) {
        vfy_hasher_free(h);
        *st = GK_E_NOMEM;
        return NULL;
    }
    reset(h);
    *st = GK_OK;
    return h;
}

void vfy_hasher_update(vfy_hasher *h, const void *data, size_t n) {
    switch (h->kind) {
    case VFY_HASH_XXH64: XXH64_update(h->x64, data, n); break;
    case VFY_HASH_XXH3: XXH3_64bits_update(h->x3, data, n); break;
    case VFY_HASH_XXH128: XXH3_128bits_update(h->x3, data, n); break;
    default: EVP_DigestUpdate(h->md, data, n); break;
    }
}

static void to_hex(const uint8_t *b, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = '\0';
}

void vfy_hasher_final(vfy_hasher *h, char hex[VFY_HASH_HEX_MAX]) {
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    switch (h->kind) {
    case VFY_HASH_XXH64: {
        XXH64_canonical_t c;
        XXH64_canonicalFromHash(&c, XXH64_digest(h->x64));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    case VFY_HASH_XXH3: {
        XXH64_canonical_t c;
        XXH64_canonicalFromHash(&c, XXH3_64bits_digest(h->x3));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    case VFY_HASH_XXH128: {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->x3));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    case VFY_HASH_UUID: {
        /* RFC 9562 5.5: the first 16 bytes of SHA-1, version 5, variant 10 */
        EVP_DigestFinal_ex(h->md, d, &dn);
        d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);
        d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
        char t[33];
        to_hex(d, 16, t);
        snprintf(hex, VFY_HASH_HEX_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", t, t + 8, t + 12, t + 16,
                 t + 20);
        break;
    }
    default:
        EVP_DigestFinal_ex(h->md, d, &dn);
        to_hex(d, dn, hex);
        break;
    }
    reset(h);
}

void vfy_hasher_free(vfy_hasher *h) {
    if (!h)
        return;
    XXH64_freeState(h->x64);
    XXH3_freeState(h->x3);
    EVP_MD_CTX_free(h->md);
    free(h);
}

gk_status vfy_hash_buffer(vfy_hash_kind k, const void *data, size_t n, char hex[VFY_HASH_HEX_MAX]) {
    gk_status st;
    vfy_hasher *h = vfy_hasher_new(k, &st);
    if (!h)
        return st;
    vfy_hasher_update(h, data, n);
    vfy_hasher_final(h, hex);
    vfy_hasher_free(h);
    return GK_OK;
}

gk_status vfy_hash_file(const char *path, vfy_hash_kind k, char hex[VFY_HASH_HEX_MAX], char *err,
                        size_t errcap) {
    gk_status st;
    int fd = fmt_is_stdio(path) ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open: %s", strerror(errno));
        return GK_E_IO;
    }
    vfy_hasher *h = vfy_hasher_new(k, &st);
    uint8_t *buf = malloc(READ_CHUNK);
    if (!h || !buf) {
        snprintf(err, errcap, "out of memory");
        st = GK_E_NOMEM;
        goto done;
    }
    struct stat sb;
    fmt_map map;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        fmt_map_fd(fd, (uint64_t)sb.st_size, fd == STDIN_FILENO ? "(stdin)" : path,
                   FMT_MAP_SEQUENTIAL, &map, NULL, 0) == GK_OK) {
        /* a regular file: hash the page cache in place, no copy */
        vfy_hasher_update(h, map.data, map.size);
        fmt_unmap(&map);
        vfy_hasher_final(h, hex);
        st = GK_OK;
        goto done;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t got = read(fd, buf, READ_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errcap, "read error: %s", strerror(errno));
            st = GK_E_IO;
            goto done;
        }
        if (got == 0)
            break;
        vfy_hasher_update(h, buf, (size_t)got);
    }
    vfy_hasher_final(h, hex);
    st = GK_OK;
done:
    free(buf);
    vfy_hasher_free(h);
    if (fd != STDIN_FILENO)
        close(fd);
    return st;
}

/* ------------------------------------------------------------------------ */
/* A model: per tensor and whole                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    fmt_gguf *g;
    fmt_input *in;
    vfy_gguf_hashes *out;
    unsigned model_kinds, tensor_kinds;
    int n_model_jobs;
    vfy_hash_kind model_job[VFY_HASH_COUNT];
    atomic_int read_errno; /* the first read error of a per-tensor job */
    fmt_progress *prog;
} hash_ctx;

/* Hashers for every kind in mask; 0 when all could be made. */
static int make_hashers(unsigned mask, vfy_hasher *h[VFY_HASH_COUNT]) {
    int bad = 0;
    for (int k = 0; k < VFY_HASH_COUNT; k++) {
        gk_status st;
        h[k] = (mask & (1u << k)) ? vfy_hasher_new((vfy_hash_kind)k, &st) : NULL;
        if ((mask & (1u << k)) && !h[k])
            bad = 1;
    }
    return bad;
}

static void free_hashers(vfy_hasher *h[VFY_HASH_COUNT]) {
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        vfy_hasher_free(h[k]);
}

static void update_all(vfy_hasher *h[VFY_HASH_COUNT], const void *p, size_t n) {
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        if (h[k])
            vfy_hasher_update(h[k], p, n);
}

static void final_all(vfy_hasher *h[VFY_HASH_COUNT], char hex[VFY_HASH_COUNT][VFY_HASH_HEX_MAX]) {
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        if (h[k])
            vfy_hasher_final(h[k], hex[k]);
}

/* Progress: tensor i (0-based) of the model is being hashed. */
static void progress_tensor(const hash_ctx *c, uint64_t i) {
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, i);
    fmt_progress_item(c->prog, i + 1, fmt_gguf_n_tensors(c->g), t->name.ptr, (size_t)t->name.len);
}

/* One job of the threaded mapped pass. The whole-model stream reads the
 * mapping; the per-tensor jobs copy FUSED_CHUNK at a time into their
 * scratch (fmt_input_copy_at). Whichever leads takes the page cache from
 * memory and the other finds it in cache; the copy leads best. */
static gk_status hash_job(void *arg, uint64_t j, void *scratch) {
    hash_ctx *c = arg;
    uint64_t n = fmt_gguf_n_tensors(c->g);
    vfy_hasher *h[VFY_HASH_COUNT];
    if (j < (uint64_t)c->n_model_jobs) {
        vfy_hash_kind k = c->model_job[j];
        if (make_hashers(1u << k, h)) {
            free_hashers(h);
            return GK_E_NOMEM;
        }
        uint64_t done = 0;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *p = fmt_gguf_tensor_data(c->g, i);
            uint64_t size = fmt_gguf_tensor_at(c->g, i)->size;
            if (j == 0)
                progress_tensor(c, i);
            for (uint64_t o = 0; o < size; o += STREAM_CHUNK) {
                size_t len = (size_t)(size - o < STREAM_CHUNK ? size - o : STREAM_CHUNK);
                vfy_hasher_update(h[k], p + o, len);
                done += len;
                if (j == 0)
                    fmt_progress_update(c->prog, done);
            }
        }
        vfy_hasher_final(h[k], c->out->model[k]);
        free_hashers(h);
        return GK_OK;
    }
    uint64_t i = j - (uint64_t)c->n_model_jobs;
    if (make_hashers(c->tensor_kinds, h)) {
        free_hashers(h);
        return GK_E_NOMEM;
    }
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, i);
    uint64_t at = fmt_gguf_data_offset(c->g) + t->offset;
    for (uint64_t o = 0; o < t->size; o += FUSED_CHUNK) {
        size_t len = (size_t)(t->size - o < FUSED_CHUNK ? t->size - o : FUSED_CHUNK);
        int e = fmt_input_copy_at(c->in, at + o, scratch, len);
        if (e) {
            int none = 0;
            atomic_compare_exchange_strong(&c->read_errno, &none, e);
            free_hashers(h);
            return GK_E_IO;
        }
        update_all(h, scratch, len);
    }
    final_all(h, c->out->tensor[i]);
    free_hashers(h);
    return GK_OK;
}

/* Single pass, one thread: every digest from the same chunk. Data comes from
 * the mapping, or is read forward from a stream in offset order (tensor-info
 * order, which the reader enforces). */
static void xxh64_hex(uint64_t h, char hex[VFY_HASH_HEX_MAX]) {
    XXH64_canonical_t c;
    XXH64_canonicalFromHash(&c, h);
    to_hex(c.digest, sizeof c.digest, hex);
}

static gk_status fused_pass(hash_ctx *c, char *err, size_t errcap) {
    vfy_hasher *mh[VFY_HASH_COUNT], *th[VFY_HASH_COUNT];
    uint8_t *buf = NULL;
    gk_status st = GK_OK;
    /* XXH64 per tensor and for the whole model: both streams in one pass
     * (vfy_xxh64_update_pair), instead of two libxxhash passes. */
    const unsigned x64 = 1u << VFY_HASH_XXH64;
    int pair = (c->model_kinds & x64) && (c->tensor_kinds & x64);
    vfy_xxh64 pm, pt;
    vfy_xxh64_reset(&pm);
    vfy_xxh64_reset(&pt);
    unsigned lib_model = pair ? c->model_kinds & ~x64 : c->model_kinds;
    unsigned lib_tensor = pair ? c->tensor_kinds & ~x64 : c->tensor_kinds;
    int bad = make_hashers(lib_model, mh) | make_hashers(lib_tensor, th);
    int mapped = fmt_input_is_mapped(c->in);
    if (!bad && !mapped && !(buf = malloc(READ_CHUNK)))
        bad = 1;
    if (bad) {
        snprintf(err, errcap, "out of memory");
        st = GK_E_NOMEM;
        goto done;
    }
    uint64_t n = fmt_gguf_n_tensors(c->g), done_bytes = 0;
    uint64_t base = fmt_gguf_data_offset(c->g);
    for (uint64_t i = 0; i < n; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, i);
        const uint8_t *p = mapped ? fmt_gguf_tensor_data(c->g, i) : NULL;
        if (!mapped) {
            uint64_t at = base + t->offset, pos = fmt_input_tell(c->in);
            st = at >= pos ? fmt_input_skip(c->in, at - pos) : GK_E_UNSUPPORTED;
            if (st != GK_OK)
                goto input_error;
        }
        size_t step = mapped ? FUSED_CHUNK : READ_CHUNK;
        progress_tensor(c, i);
        for (uint64_t o = 0; o < t->size; o += step) {
            size_t len = (size_t)(t->size - o < step ? t->size - o : step);
            const uint8_t *q = p ? p + o : buf;
            if (!mapped && (st = fmt_input_read_exact(c->in, buf, len)) != GK_OK)
                goto input_error;
            if (pair)
                vfy_xxh64_update_pair(&pt, &pm, q, len);
            update_all(mh, q, len);
            update_all(th, q, len);
            done_bytes += len;
            fmt_progress_update(c->prog, done_bytes);
        }
        if (c->tensor_kinds)
            final_all(th, c->out->tensor[i]);
        if (pair) {
            xxh64_hex(vfy_xxh64_digest(&pt), c->out->tensor[i][VFY_HASH_XXH64]);
            vfy_xxh64_reset(&pt);
        }
    }
    final_all(mh, c->out->model);
    if (pair)
        xxh64_hex(vfy_xxh64_digest(&pm), c->out->model[VFY_HASH_XXH64]);
    goto done;
input_error:
    if (st == GK_E_UNSUPPORTED)
        snprintf(err, errcap, "tensor data out of order in a stream");
    else
        snprintf(err, errcap, "%s", fmt_input_errmsg(c->in));
done:
    free(buf);
    free_hashers(mh);
    free_hashers(th);
    return st;
}

/* ------------------------------------------------------------------------ */
/* A stream with threads: read once, hash on two threads                      */
/* ------------------------------------------------------------------------ */

/* Chunks are read in offset order; in step s one job reads chunk s into one
 * buffer while two more feed chunk s - 1 from the other buffer to the
 * whole-model digests and to the per-tensor digests (a parallel-for of
 * three jobs per step), so each digest sees the chunks in order. */
/* Bytes per chunk: large enough that a step outweighs waking the pool. */
#define PIPE_CHUNK (2u << 20)

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t tensor; /* index of the tensor the bytes belong to */
    int last;        /* the tensor's last chunk (also for empty tensors) */
} chunk;

typedef struct {
    hash_ctx *c;
    chunk ch[2];          /* chunk s is in ch[s % 2] */
    uint64_t step, n;     /* current step; chunks in all */
    uint64_t tensor, off; /* where the next chunk to read starts */
    uint64_t done_bytes;  /* fed to the whole-model digests */
    vfy_hasher *mh[VFY_HASH_COUNT], *th[VFY_HASH_COUNT];
    char *err;
    size_t errcap;
} pipeline;

static gk_status read_chunk(pipeline *p, chunk *k) {
    hash_ctx *c = p->c;
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, p->tensor);
    if (p->off == 0) {
        uint64_t at = fmt_gguf_data_offset(c->g) + t->offset, pos = fmt_input_tell(c->in);
        if (at < pos) {
            snprintf(p->err, p->errcap, "tensor data out of order in a stream");
            return GK_E_UNSUPPORTED;
        }
        gk_status st = fmt_input_skip(c->in, at - pos);
        if (st != GK_OK) {
            snprintf(p->err, p->errcap, "%s", fmt_input_errmsg(c->in));
            return st;
        }
    }
    k->len = (size_t)(t->size - p->off < PIPE_CHUNK ? t->size - p->off : PIPE_CHUNK);
    gk_status st = k->len ? fmt_input_read_exact(c->in, k->buf, k->len) : GK_OK;
    if (st != GK_OK) {
        snprintf(p->err, p->errcap, "%s", fmt_input_errmsg(c->in));
        return st;
    }
    k->tensor = p->tensor;
    if (p->off == 0)
        progress_tensor(c, p->tensor);
    p->off += k->len;
    k->last = p->off == t->size;
    if (k->last) {
        p->tensor++;
        p->off = 0;
    }
    return GK_OK;
}

/* Job 0 reads chunk step, jobs 1 and 2 hash chunk step - 1. */
static gk_status pipe_job(void *arg, uint64_t j, void *scratch) {
    (void)scratch;
    pipeline *p = arg;
    if (j == 0)
        return p->step < p->n ? read_chunk(p, &p->ch[p->step % 2]) : GK_OK;
    if (p->step == 0)
        return GK_OK;
    const chunk *k = &p->ch[(p->step - 1) % 2];
    if (j == 1) {
        update_all(p->mh, k->buf, k->len);
        p->done_bytes += k->len;
        fmt_progress_update(p->c->prog, p->done_bytes);
    } else {
        update_all(p->th, k->buf, k->len);
        if (k->last)
            final_all(p->th, p->c->out->tensor[k->tensor]);
    }
    return GK_OK;
}

static gk_status stream_threaded(hash_ctx *c, int nthreads, char *err, size_t errcap) {
    pipeline p = {.c = c, .err = err, .errcap = errcap};
    uint64_t nt = fmt_gguf_n_tensors(c->g);
    for (uint64_t i = 0; i < nt; i++) {
        uint64_t size = fmt_gguf_tensor_at(c->g, i)->size;
        p.n += size ? (size + PIPE_CHUNK - 1) / PIPE_CHUNK : 1;
    }
    int jobs = c->tensor_kinds ? 3 : 2;
    gk_status st = GK_OK;
    fmt_pool *pool = fmt_pool_new(nthreads < jobs ? nthreads : jobs, 0, &st);
    int bad = make_hashers(c->model_kinds, p.mh) | make_hashers(c->tensor_kinds, p.th);
    for (int i = 0; i < 2; i++)
        if (!(p.ch[i].buf = malloc(PIPE_CHUNK)))
            bad = 1;
    if (!pool || bad) {
        snprintf(err, errcap, "out of memory");
        st = GK_E_NOMEM;
    }
    for (p.step = 0; st == GK_OK && p.step <= p.n; p.step++)
        st = fmt_pool_for(pool, (uint64_t)jobs, pipe_job, &p);
    if (st == GK_OK)
        final_all(p.mh, c->out->model);
    fmt_pool_free(pool);
    free_hashers(p.mh);
    free_hashers(p.th);
    free(p.ch[0].buf);
    free(p.ch[1].buf);
    return st;
}

gk_status vfy_hash_gguf(fmt_gguf *g, fmt_input *in, const vfy_hash_opts *o, vfy_gguf_hashes *out,
                        char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    uint64_t n = fmt_gguf_n_tensors(g);
    hash_ctx c = {.g = g, .in = in, .out = out};
    c.model_kinds = o->kinds & ((1u << VFY_HASH_COUNT) - 1);
    c.tensor_kinds = o->per_tensor ? c.model_kinds & ~(1u << VFY_HASH_UUID) : 0;
    out->n_tensors = n;
    if (c.tensor_kinds && n && !(out->tensor = calloc((size_t)n, sizeof *out->tensor))) {
        snprintf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += fmt_gguf_tensor_at(g, i)->size;
    c.prog = fmt_progress_start("hashing", total, o->progress);

    gk_status st = GK_OK;
    int nthreads = o->nthreads < 1 ? 1 : o->nthreads;
    if (nthreads > 1 && !fmt_input_is_mapped(in) && fmt_input_tell(in) == fmt_gguf_data_offset(g)) {
        st = stream_threaded(&c, nthreads, err, errcap);
    } else if (nthreads == 1 || !fmt_input_is_mapped(in)) {
        st = fused_pass(&c, err, errcap);
    } else {
        for (int k = 0; k < VFY_HASH_COUNT; k++)
            if (c.model_kinds & (1u << k))
                c.model_job[c.n_model_jobs++] = (vfy_hash_kind)k;
        uint64_t jobs = (uint64_t)c.n_model_jobs + (c.tensor_kinds ? n : 0);
        /* no more participants (each with its scratch) than jobs */
        fmt_pool *pool =
            fmt_pool_new(jobs < (uint64_t)nthreads ? (int)jobs : nthreads, FUSED_CHUNK, &st);
        if (pool)
            st = fmt_pool_for(pool, jobs, hash_job, &c);
        fmt_pool_free(pool);
        if (st == GK_E_NOMEM)
            snprintf(err, errcap, "out of memory");
        else if (st == GK_E_IO)
            snprintf(err, errcap, "read error: %s", strerror(atomic_load(&c.read_errno)));
    }
    fmt_progress_end(c.prog);
    if (st != GK_OK)
        vfy_gguf_hashes_free(out);
    return st;
}

void vfy_gguf_hashes_free(vfy_gguf_hashes *h) {
    if (!h)
        return;
    free(h->tensor);
    memset(h, 0, sizeof *h);
}
