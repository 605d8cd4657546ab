/* fuzz_safetensors.c -- libFuzzer harness: any bytes as one safetensors
 * file. Build: clang -fsanitize=fuzzer,address,undefined -I. this file
 * with the ASan libggufkit.a and its pkg-config libraries. */
#include <stddef.h>
#include <stdint.h>

#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_status st;
    fmt_safetensors *s = fmt_safetensors_open_mem(data, size, "fuzz", &st);
    if (!s)
        return 0;
    /* every accepted tensor must lie inside the input */
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < fmt_safetensors_n_tensors(s); i++) {
        const fmt_st_tensor *t = fmt_safetensors_tensor_at(s, i);
        if (t->size)
            sink ^= t->data[0] ^ t->data[t->size - 1];
    }
    (void)sink;
    fmt_safetensors_close(s);
    return 0;
}
