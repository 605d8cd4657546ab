/*
 * fuzz_st_index.c -- libFuzzer harness for the sharded-safetensors index
 * (model.safetensors.index.json): the input is the index; the scratch
 * directory holds two valid shards, a symlink leaving the directory and a
 * valid file outside it. An accepted index must only reference shards that
 * are inside the directory, and every tensor must lie inside its shard.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/io.h"
#include "formats/safetensors.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

/* A one-tensor safetensors file: F32 name[2]. */
static void write_shard(const char *path, const char *name) {
    char hdr[128];
    int n = snprintf(hdr, sizeof hdr,
                     "{\"%s\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", name);
    uint8_t buf[256];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, hdr, (size_t)n);
    memset(buf + 8 + n, 0x3f, 8);
    fz_write(path, buf, 8 + (size_t)n + 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[300], index[400];
    if (!dir[0]) {
        char p[512];
        fmt_set_display_level(0);
        write_shard(fz_path(p, sizeof p, "outside.safetensors"), "x");
        fz_path(dir, sizeof dir, "model");
        if (mkdir(dir, 0700) != 0)
            abort();
        snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
        write_shard(p, "a");
        snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
        write_shard(p, "b");
        snprintf(p, sizeof p, "%s/link.safetensors", dir);
        if (symlink("../outside.safetensors", p) != 0)
            abort();
        snprintf(index, sizeof index, "%s/model.safetensors.index.json", dir);
    }
    fz_write(index, data, size);
    gk_status st;
    fmt_safetensors *s = fmt_safetensors_open(index, &st);
    if (!s)
        return 0;
    for (uint32_t i = 0; i < fmt_safetensors_n_shards(s); i++) {
        const char *p = fmt_safetensors_shard_path(s, i);
        if (strstr(p, "link.safetensors") || strstr(p, "outside"))
            abort(); /* a shard outside the index's directory was accepted */
    }
    for (uint64_t i = 0; i < fmt_safetensors_n_tensors(s); i++) {
        const fmt_st_tensor *t = fmt_safetensors_tensor_at(s, i);
        if (t->size)
            sink += t->data[0] + t->data[t->size - 1];
    }
    for (uint64_t i = 0; i < fmt_safetensors_n_metadata(s); i++) {
        const char *k, *v;
        fmt_safetensors_metadata_at(s, i, &k, &v);
        sink += strlen(k) + strlen(v);
    }
    fmt_safetensors_close(s);
    return 0;
}
