/*
 * fuzz_util.h -- helpers shared by the libFuzzer harnesses: a private
 * scratch directory (for readers that take paths) and whole-file writes.
 * Header-only and static: each harness is one translation unit linked with
 * either libFuzzer or fuzz/driver.c.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_dir_path[256];

static inline int fz_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Remove the scratch directory at exit (libFuzzer's -fork mode starts a
 * process per job: without this each one would leave a directory). */
static inline void fz_cleanup(void) {
    if (fz_dir_path[0])
        nftw(fz_dir_path, fz_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* A directory of our own, made once per process (in /dev/shm when it
 * exists: the harnesses write a file per input). */
static inline const char *fz_dir(void) {
    if (!fz_dir_path[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/ggufkit-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_dir_path))
            abort();
        atexit(fz_cleanup);
    }
    return fz_dir_path;
}

/* dir/name into buf. */
static inline const char *fz_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", fz_dir(), name);
    return buf;
}

/* Write data[0..n) to path (replacing it); aborts on failure, which is a
 * harness problem, not a finding. */
static inline void fz_write(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

/* Split data at the first occurrence of the 4-byte separator "\n@@\n":
 * the part before goes to *a, the rest to *b (empty when absent). Lets one
 * input carry several files. */
static inline void fz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na,
                            const uint8_t **b, size_t *nb) {
    *a = data;
    *na = size;
    *b = data + size;
    *nb = 0;
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(data + i, "\n@@\n", 4) == 0) {
            *na = i;
            *b = data + i + 4;
            *nb = size - i - 4;
            return;
        }
}

#endif
