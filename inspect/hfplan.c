/*
 * hfplan.c -- gguf-inspect --mem on a Hugging Face directory: the header of
 * the GGUF hf2gguf would write, read from the hf2gguf program itself.
 *
 * inspect/ sits below the converters and may not include hf2gguf's engine
 * (docs/ARCHITECTURE.md, scripts/check-layers), so it runs the program:
 * `hf2gguf --header-only -o - DIR` (the sibling of this executable, else
 * the first on PATH; posix_spawn, no shell), which writes the keys and
 * tensor infos of its output and no tensor data, and reads that stream from
 * a pipe as any GGUF stream is read (formats/hfrun, formats/io,
 * formats/gguf). Neither process reads a weight. When hf2gguf fails, its
 * message becomes ours.
 */
#include <stdio.h>

#include "formats/hfrun.h"
#include "inspect_internal.h"

#define DRAIN_MAX (1u << 20) /* bytes after the header a well-behaved child never writes */

gk_status insp_hf_header(const char *dir, int f16, fmt_input **in, fmt_gguf **g, gk_error *e) {
    /* memory does not depend on the pre-tokenizer, which hf2gguf --pre
     * chooses anyway: name one so none is detected */
    const char *args[] = {"-j",      "1",         "--header-only",      "--pre",
                          "default", "--outtype", f16 ? "f16" : "auto", NULL};
    char err[sizeof e->msg] = "", fdpath[64];
    gk_status st;
    int fd = -1;
    *in = NULL, *g = NULL;
    fmt_hfrun *h =
        fmt_hfrun_start(dir, args, "--mem on a Hugging Face directory", &fd, err, sizeof err);
    if (!h)
        return gk_error_set(e, GK_E_IO, dir, "%s", err);
    /* the pipe's read end as a stream input, as "-" would be */
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fd);
    if ((*in = fmt_input_open(fdpath, NULL, &st, err, sizeof err)) != NULL &&
        !(*g = fmt_gguf_open(*in, &st)))
        snprintf(err, sizeof err, "%s", fmt_gguf_open_errmsg());
    char child[sizeof e->msg] = "";
    gk_status cst = fmt_hfrun_finish(h, DRAIN_MAX, child, sizeof child);
    if (cst == GK_OK && st == GK_OK && *g) {
        gk_error_clear(e);
        return GK_OK;
    }
    fmt_gguf_close(*g);
    fmt_input_close(*in);
    *in = NULL, *g = NULL;
    if (cst != GK_OK) /* the child's reason first: the stream then ended early; it names its file */
        return gk_error_set(e, GK_E_FORMAT, NULL, "%s", child);
    return gk_error_set(e, GK_E_FORMAT, dir, "hf2gguf's header: %s", err);
}
