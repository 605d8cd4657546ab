/*
 * fuzz_dequant.c -- libFuzzer harness for every dequantizer: the first
 * byte picks a type, the rest is taken as whole blocks of it and decoded by
 * the reference kernel and by the dispatched (SIMD) kernel. Both must only
 * touch their blocks and output, and must agree bit for bit (NaN payloads
 * aside: any two NaNs match).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TYPE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int types[MAX_TYPE], n_types;
    if (!n_types) {
        kern_init();
        for (int t = 0; t < MAX_TYPE; t++) {
            const kern_type_traits *tr = kern_type_info(t);
            if (tr && tr->to_float_ref)
                types[n_types++] = t;
        }
        if (!n_types)
            abort();
    }
    if (size < 1)
        return 0;
    int type = types[data[0] % n_types];
    const kern_type_traits *tr = kern_type_info(type);
    size_t nb = (size - 1) / tr->type_size;
    if (nb == 0)
        return 0;
    /* exact-size copies so ASan catches any read past the last block */
    size_t bytes = nb * tr->type_size;
    int64_t n = (int64_t)nb * tr->blck_size;
    uint8_t *src = malloc(bytes);
    float *ref = malloc((size_t)n * sizeof *ref);
    float *fast = malloc((size_t)n * sizeof *fast);
    if (!src || !ref || !fast)
        abort();
    memcpy(src, data + 1, bytes);
    tr->to_float_ref(src, ref, n);
    kern_to_float_fn fn = kern_dequant_fn(type);
    if (!fn)
        abort();
    fn(src, fast, n);
    for (int64_t i = 0; i < n; i++) {
        if (isnan(ref[i]) && isnan(fast[i]))
            continue;
        if (memcmp(&ref[i], &fast[i], sizeof(float)) != 0) {
            fprintf(stderr, "%s: element %lld: ref %a, %s %a\n", kern_type_label(type),
                    (long long)i, (double)ref[i], kern_isa_name(), (double)fast[i]);
            abort();
        }
    }
    free(src);
    free(ref);
    free(fast);
    return 0;
}
