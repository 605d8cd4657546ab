/*
 * run.c -- gguf-inspect's engine: open the input and print the view the
 * options ask for (see inspect_internal.h, insp_run).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "formats/cli.h"
#include "inspect_internal.h"

int insp_run(const char *input, const char *key, const insp_opts *o) {
    insp_model m;
    gk_error e;
    struct stat sb;
    int rc;
    /* --mem on a Hugging Face directory: the GGUF hf2gguf would write */
    gk_status st = o->mem && !fmt_is_stdio(input) && stat(input, &sb) == 0 && S_ISDIR(sb.st_mode)
                       ? insp_model_plan_hf(input, o->as != NULL, &m, &e)
                       : insp_model_open(input, &m, &e);
    if (st != GK_OK) {
        insp_model_close(&m);
        return fmt_cli_report(&e);
    }
    if (o->mem && m.is_safetensors) {
        fmt_error(input,
                  "%s needs a GGUF model or a Hugging Face directory, not a lone "
                  "safetensors file: the plan is that of the GGUF hf2gguf writes",
                  o->as ? "--as" : "--mem");
        rc = 2;
    } else if (key) {
        rc = insp_print_key(stdout, &m, key);
        if (rc)
            fmt_error(input, "no metadata key '%s'", key);
    } else if (o->json) {
        rc = insp_render_json(stdout, &m, o);
    } else {
        rc = insp_render_text(stdout, &m, o);
    }
    insp_model_close(&m);
    return fmt_stdout_finish(rc);
}
