/*
 * hfrun.h -- what hf2gguf writes from a Hugging Face directory, for the
 * programs below the converters (gguf-inspect --mem DIR, gguf-verify diff
 * DIR): they may not include hf2gguf's engine (docs/ARCHITECTURE.md), so
 * they run the program and read its output from a pipe.
 */
#ifndef FORMATS_HFRUN_H
#define FORMATS_HFRUN_H

#include <stddef.h>

#include "../ggufkit.h"

typedef struct fmt_hfrun fmt_hfrun;

/* Start `hf2gguf -q --no-progress ARGS... -o - -- DIR` (the hf2gguf beside
 * this executable, else the first on PATH; posix_spawn, no shell), stdin
 * /dev/null, stdout a pipe whose read end is *fd, stderr an unlinked temp
 * file. USE names what needs hf2gguf, for the message when it is missing.
 * NULL with err set when it cannot be started. */
fmt_hfrun *fmt_hfrun_start(const char *dir, const char *const *args, const char *use, int *fd,
                           char *err, size_t cap);

/* Read and drop what the child still writes (more than drain_max bytes
 * and it is killed), close *fd, wait for it and free h. GK_OK when it
 * exited 0; otherwise GK_E_FORMAT with its message (its stderr lines
 * without their "hf2gguf: " prefix, joined by "; ") in err. */
gk_status fmt_hfrun_finish(fmt_hfrun *h, size_t drain_max, char *err, size_t cap);

#endif
