/*
 * fuzz_gguf.c -- libFuzzer harness for the GGUF reader: each input is
 * parsed twice, from memory (fmt_gguf_open_memory: the mapped-file path)
 * and as a forward-only stream (a pipe fed by a thread, through fmt_input:
 * the stdin/zstd path). Every accepted header is walked (KVs, nested
 * arrays, typed getters, tensor lookups) and small tensors are read and
 * dequantized, so a header the reader accepts is also safe to use.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "kernels/kernels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TENSOR_CAP (1u << 20) /* read and dequantize tensors up to 1 MiB */

static volatile uint64_t sink;

static void walk_value(const fmt_gguf_value *v, int depth) {
    if (v->type == FMT_GGUF_STRING) {
        if (v->v.s.len)
            sink += (uint8_t)v->v.s.ptr[0] + (uint8_t)v->v.s.ptr[v->v.s.len - 1];
        return;
    }
    if (v->type != FMT_GGUF_ARRAY) {
        sink += v->v.u;
        return;
    }
    if (depth > FMT_GGUF_MAX_ARRAY_DEPTH + 1)
        abort(); /* the reader promised to bound nesting */
    fmt_gguf_iter it;
    fmt_gguf_value e;
    fmt_gguf_iter_init(&it, v);
    uint64_t n = 0;
    while (fmt_gguf_iter_next(&it, &e)) {
        walk_value(&e, depth + 1);
        n++;
    }
    if (n != v->v.arr.n)
        abort(); /* a validated array yields exactly its count */
}

static void walk(fmt_gguf *g) {
    sink += fmt_gguf_version(g) + fmt_gguf_alignment(g) + fmt_gguf_data_offset(g) +
            fmt_gguf_header_size(g);
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        sink += fmt_gguf_type_size(kv->value.type) + strlen(fmt_gguf_type_name(kv->value.type));
        walk_value(&kv->value, 0);
    }
    uint64_t u;
    int64_t s;
    double f;
    int b;
    fmt_str str;
    static const char *const keys[] = {"general.architecture", "general.alignment",
                                       "general.file_type", "split.count", "llama.block_count"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        sink += (uint64_t)fmt_gguf_get_u64(g, keys[k], &u) +
                (uint64_t)fmt_gguf_get_i64(g, keys[k], &s) +
                (uint64_t)fmt_gguf_get_f64(g, keys[k], &f) +
                (uint64_t)fmt_gguf_get_bool(g, keys[k], &b) +
                (uint64_t)fmt_gguf_get_str(g, keys[k], &str);
        (void)fmt_gguf_find_kv(g, keys[k]);
    }
    const uint64_t *order = fmt_gguf_offset_order(g);
    for (uint64_t j = 0; j < fmt_gguf_n_tensors(g); j++) {
        uint64_t i = order ? order[j] : j;
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        if (!t)
            abort();
        char name[FMT_GGUF_MAX_NAME + 1];
        if (t->name.len <= FMT_GGUF_MAX_NAME && !memchr(t->name.ptr, 0, t->name.len)) {
            memcpy(name, t->name.ptr, t->name.len);
            name[t->name.len] = 0;
            if (fmt_gguf_tensor_index(g, name) < 0)
                abort(); /* every tensor can be found by its name */
        }
        if (t->size > TENSOR_CAP)
            continue;
        uint8_t *buf = malloc(t->size ? t->size : 1);
        if (!buf)
            continue;
        if (fmt_gguf_read_tensor(g, i, buf) == GK_OK) {
            const kern_type_traits *tr = kern_type_info(t->type);
            if (tr && tr->to_float_ref && t->n_elements <= TENSOR_CAP) {
                float *out = malloc((t->n_elements ? t->n_elements : 1) * sizeof *out);
                if (out) {
                    tr->to_float_ref(buf, out, (int64_t)t->n_elements);
                    free(out);
                }
            }
        }
        free(buf);
    }
}

/* ---- stream mode -------------------------------------------------------- */

typedef struct {
    int fd;
    const uint8_t *data;
    size_t size;
} feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    size_t off = 0;
    while (off < f->size) {
        ssize_t w = write(f->fd, f->data + off, f->size - off);
        if (w <= 0)
            break; /* the reader went away (EPIPE): fine */
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

static void stream_once(const uint8_t *data, size_t size) {
    int p[2];
    if (pipe(p) != 0)
        abort();
    feeder f = {p[1], data, size};
    pthread_t th;
    if (pthread_create(&th, NULL, feed, &f) != 0)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
    gk_status st;
    char err[256];
    fmt_input *in = fmt_input_open(path, NULL, &st, err, sizeof err);
    close(p[0]); /* the input holds its own descriptor */
    if (in) {
        fmt_gguf *g = fmt_gguf_open(in, &st);
        if (g) {
            walk(g);
            fmt_gguf_close(g);
        }
        fmt_input_close(in);
    }
    pthread_join(th, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        init = 1;
        signal(SIGPIPE, SIG_IGN);
        /* zstd input in stream mode: a bomb must stop at this bound */
        setenv("GGUFKIT_ZSTD_MAX", "64M", 1);
        setenv("TMPDIR", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", 1);
        fmt_set_display_level(0);
        kern_init();
    }
    gk_status st;
    fmt_gguf *g = fmt_gguf_open_memory(data, size, &st);
    if (g) {
        walk(g);
        fmt_gguf_close(g);
    }
    stream_once(data, size);
    return 0;
}
