/* fuzz_pickle.c -- libFuzzer harness: any bytes as a torch.save zip
 * archive (zip directory, restricted unpickler, tensor bounds). Build:
 * clang -fsanitize=fuzzer,address,undefined -I. this file with the ASan
 * libggufkit.a and its pkg-config libraries. */
#include <stddef.h>
#include <stdint.h>

#include "formats/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_status st;
    fmt_pt *p = fmt_pt_open_mem(data, size, "fuzz", &st);
    if (!p)
        return 0;
    /* every accepted tensor must lie inside the input */
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < fmt_pt_n_tensors(p); i++) {
        const fmt_pt_tensor *t = fmt_pt_tensor_at(p, i);
        if (t->size)
            sink ^= t->data[0] ^ t->data[t->size - 1];
    }
    (void)sink;
    fmt_pt_close(p);
    return 0;
}
