/* report.c -- requant's plan, summary, JSON report and HTML page. */
#include "converters/requant/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/io.h"
#include "kernels/kernels.h"

void rq_report_list(void) {
    printf("%-10s %5s  %-8s %s\n", "PRESET", "BPW", "FTYPE", "DESCRIPTION");
    for (size_t i = 0; i < fmt_mix_preset_count(); i++) {
        const fmt_mix_preset *p = fmt_mix_preset_at(i);
        const kern_type_traits *tt = kern_type_info(p->default_type);
        int ok = tt && tt->quantize_ref;
        printf("%-10s %5.2f  %-8d %s%s%s\n", p->name, p->bpw, p->ftype, p->desc,
               p->needs_imatrix ? " (needs --imatrix)" : "", ok ? "" : " [not in this build]");
    }
}

static double bpw(uint64_t bytes, uint64_t n) {
    return n ? (double)bytes * 8.0 / (double)n : 0.0;
}

static void shape_str(const rq_tensor *t, char *buf, size_t cap) {
    int o = snprintf(buf, cap, "%lld", (long long)t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims && o > 0 && (size_t)o < cap; d++)
        o += snprintf(buf + o, cap - (size_t)o, "x%lld", (long long)t->ne[d]);
}

static json_t *num_or_null(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *tensor_json(const rq_tensor *t, int with_metrics) {
    json_t *shape = json_array();
    for (uint32_t d = 0; d < t->n_dims; d++)
        json_array_append_new(shape, json_integer(t->ne[d]));
    json_t *o =
        json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:b, s:b}", "name", t->name, "shape", shape,
                  "old_type", kern_type_label(t->old_type), "new_type",
                  kern_type_label(t->new_type), "bytes_in", (json_int_t)t->bytes_old, "bytes_out",
                  (json_int_t)t->bytes_new, "fallback", t->fallback, "imatrix", t->used_imatrix);
    if (with_metrics && t->has_metrics) {
        json_object_set_new(o, "rmse", num_or_null(t->m.rmse));
        json_object_set_new(o, "max_abs_err", num_or_null(t->m.max_abs_err));
        json_object_set_new(o, "rel_err", num_or_null(t->m.rel_rms));
        json_object_set_new(o, "snr_db", num_or_null(t->m.snr_db));
        json_object_set_new(o, "cosine", num_or_null(t->m.cosine));
    }
    return o;
}

json_t *rq_report_json(const rq_job *j, const fmt_mix_preset *p, const char *input,
                       const char *output, int with_metrics) {
    json_t *arr = json_array();
    for (size_t i = 0; i < rq_n_tensors(j); i++)
        json_array_append_new(arr, tensor_json(rq_tensor_at(j, i), with_metrics));
    return json_pack("{s:s, s:s?, s:s, s:i, s:I, s:I, s:I, s:f, s:f, s:o}", "input", input,
                     "output", output, "type", p->name, "ftype", p->ftype, "n_elements",
                     (json_int_t)rq_n_elements(j), "bytes_in", (json_int_t)rq_bytes_in(j),
                     "bytes_out", (json_int_t)rq_bytes_out(j), "bpw_in",
                     bpw(rq_bytes_in(j), rq_n_elements(j)), "bpw_out",
                     bpw(rq_bytes_out(j), rq_n_elements(j)), "tensors", arr);
}

void rq_report_plan(const rq_job *j) {
    printf("%-40s %-16s %-8s %-8s %12s %12s\n", "TENSOR", "SHAPE", "FROM", "TO", "BYTES_IN",
           "BYTES_OUT");
    for (size_t i = 0; i < rq_n_tensors(j); i++) {
        const rq_tensor *t = rq_tensor_at(j, i);
        char shape[64], name[FMT_SHOWN_NAME]; /* names come from the file */
        shape_str(t, shape, sizeof shape);
        printf("%-40s %-16s %-8s %-8s %12llu %12llu%s\n",
               fmt_escape_term(name, sizeof name, t->name, strlen(t->name)), shape,
               kern_type_label(t->old_type), kern_type_label(t->new_type),
               (unsigned long long)t->bytes_old, (unsigned long long)t->bytes_new,
               t->fallback ? "  (fallback)" : "");
    }
    printf("total: %llu -> %llu bytes, %.4f -> %.4f bpw, %llu tensors\n",
           (unsigned long long)rq_bytes_in(j), (unsigned long long)rq_bytes_out(j),
           bpw(rq_bytes_in(j), rq_n_elements(j)), bpw(rq_bytes_out(j), rq_n_elements(j)),
           (unsigned long long)rq_n_tensors(j));
}

static int cmp_rel(const void *a, const void *b) {
    const rq_tensor *x = *(const rq_tensor *const *)a, *y = *(const rq_tensor *const *)b;
    double rx = isnan(x->m.rel_rms) ? INFINITY : x->m.rel_rms;
    double ry = isnan(y->m.rel_rms) ? INFINITY : y->m.rel_rms;
    return rx < ry ? 1 : rx > ry ? -1 : strcmp(x->name, y->name);
}

void rq_report_summary(const rq_job *j) {
    if (fmt_display_level() < 2)
        return;
    fmt_log(2, "size %.2f MiB -> %.2f MiB, %.4f -> %.4f bpw", rq_bytes_in(j) / 1048576.0,
            rq_bytes_out(j) / 1048576.0, bpw(rq_bytes_in(j), rq_n_elements(j)),
            bpw(rq_bytes_out(j), rq_n_elements(j)));
    const rq_tensor **v = malloc((rq_n_tensors(j) + 1) * sizeof *v);
    if (!v)
        return;
    size_t n = 0;
    for (size_t i = 0; i < rq_n_tensors(j); i++)
        if (rq_tensor_at(j, i)->has_metrics)
            v[n++] = rq_tensor_at(j, i);
    qsort(v, n, sizeof *v, cmp_rel);
    if (n)
        fmt_log(2, "worst tensors by relative error:");
    for (size_t i = 0; i < n && i < 10; i++)
        fmt_log(2, "  %-36s %-7s rel %.3e  rmse %.3e  max %.3e  snr %.1f dB", v[i]->name,
                kern_type_label(v[i]->new_type), v[i]->m.rel_rms, v[i]->m.rmse, v[i]->m.max_abs_err,
                v[i]->m.snr_db);
    free(v);
}

/* One row of the page gguf-verify diff draws. Tensors copied unchanged
 * count as exact round trips. */
static void diff_row(const rq_tensor *t, vfy_tensor_diff *r) {
    r->name = (char *)t->name;
    r->status = VFY_TENSOR_COMPARED;
    r->ref_type = t->old_type;
    r->type = t->new_type;
    r->n_dims = t->n_dims;
    r->n_elements = 1;
    for (uint32_t d = 0; d < 4; d++) {
        r->ref_ne[d] = r->ne[d] = t->ne[d];
        r->n_elements *= d < t->n_dims ? (uint64_t)t->ne[d] : 1;
    }
    r->ref_bytes = t->bytes_old;
    r->bytes = t->bytes_new;
    if (t->has_metrics)
        r->m = t->m;
    else
        r->m = (vfy_metrics){r->n_elements, 0.0, 0.0, 0.0, 1.0, INFINITY};
}

gk_status rq_report_html(const rq_job *j, const rq_report_html_opts *o, fmt_output *out, char *err,
                         size_t errcap) {
    size_t n = rq_n_tensors(j), len = 0;
    vfy_tensor_diff *rows = calloc(n ? n : 1, sizeof *rows);
    char *html = NULL;
    gk_status st = rows ? GK_OK : GK_E_NOMEM;
    for (size_t i = 0; st == GK_OK && i < n; i++)
        diff_row(rq_tensor_at(j, i), &rows[i]);
    vfy_report rep = {o->title, o->input, o->output, rows, n};
    if (st == GK_OK)
        st = vfy_report_html(&rep, &html, &len);
    if (st != GK_OK)
        snprintf(err, errcap, "cannot build the page: %s", gk_status_str(st));
    else if ((st = fmt_output_write(out, html, len)) != GK_OK)
        snprintf(err, errcap, "%s", fmt_output_errmsg(out));
    free(html);
    free(rows);
    return st;
}

gk_status rq_report_write_json(json_t *doc, fmt_output *out, char *err, size_t errcap) {
    size_t flags = JSON_INDENT(2) | JSON_ENSURE_ASCII;
    if (!out) {
        if (json_dumpf(doc, stdout, flags) != 0 || fputc('\n', stdout) == EOF) {
            snprintf(err, errcap, "cannot write the JSON to stdout");
            return GK_E_IO;
        }
        return GK_OK;
    }
    char *text = json_dumps(doc, flags);
    gk_status st = GK_E_NOMEM;
    if (!text)
        snprintf(err, errcap, "out of memory");
    else if ((st = fmt_output_write(out, text, strlen(text))) != GK_OK ||
             (st = fmt_output_write(out, "\n", 1)) != GK_OK)
        snprintf(err, errcap, "%s", fmt_output_errmsg(out));
    free(text);
    return st;
}
