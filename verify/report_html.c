/*
 * report_html.c -- one self-contained HTML page for a comparison: relative
 * error per layer for each tensor kind (SVG line chart, log scale), bits
 * per weight per layer (SVG bars) and a sortable per-tensor table. No
 * network: CSS, SVG and the sorting script are inline.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "verify/verify.h"

/* Chart geometry (SVG user units). */
#define W 960
#define H 340
#define ML 70  /* left margin (axis labels) */
#define MR 170 /* right margin (legend) */
#define MT 20
#define MB 40
#define MAX_KINDS 32

static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* "blk.N.KIND.weight" -> N and KIND (copied into kind[cap]); -1 otherwise. */
static long layer_of(const char *name, char *kind, size_t cap) {
    if (strncmp(name, "blk.", 4) != 0)
        return -1;
    char *end;
    long n = strtol(name + 4, &end, 10);
    if (end == name + 4 || *end != '.' || n < 0 || n > 1000000)
        return -1;
    const char *k = end + 1, *dot = strrchr(k, '.');
    size_t len = dot && strcmp(dot, ".weight") == 0 ? (size_t)(dot - k) : strlen(k);
    if (len == 0 || len >= cap)
        return -1;
    memcpy(kind, k, len);
    kind[len] = '\0';
    return n;
}

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A metric cell: shown rounded, sorted by the exact value. */
static void num_cell(FILE *f, double v, const char *fmt) {
    if (isnan(v))
        fputs("<td data-v=\"NaN\">NaN</td>", f);
    else if (isinf(v))
        fprintf(f, "<td data-v=\"%s\">%s</td>", v > 0 ? "Infinity" : "-Infinity",
                v > 0 ? "inf" : "-inf");
    else {
        fprintf(f, "<td data-v=\"%.17g\">", v);
        fprintf(f, fmt, v);
        fputs("</td>", f);
    }
}

static int charted(const vfy_tensor_diff *t, char *kind, size_t cap, long *layer) {
    *layer = layer_of(t->name, kind, cap);
    return *layer >= 0 && t->status == VFY_TENSOR_COMPARED && t->n_dims >= 2;
}

static void error_chart(FILE *f, const vfy_report *r, long n_layers) {
    char kinds[MAX_KINDS][64], kind[64];
    int nk = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->n_tensors; i++) {
        long l;
        if (!charted(&r->tensors[i], kind, sizeof kind, &l))
            continue;
        int k = 0;
        while (k < nk && strcmp(kinds[k], kind))
            k++;
        if (k == nk && nk < MAX_KINDS)
            strcpy(kinds[nk++], kind);
        double v = r->tensors[i].m.rel_rms;
        if (isfinite(v) && v > 0) {
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
    }
    if (!(lo <= hi)) {
        lo = 1e-6;
        hi = 1;
    }
    int dlo = (int)floor(log10(lo)), dhi = (int)ceil(log10(hi));
    if (dhi <= dlo)
        dhi = dlo + 1;
    double pw = W - ML - MR, ph = H - MT - MB;
    double xs = n_layers > 1 ? pw / (double)(n_layers - 1) : 0;
    fprintf(f,
            "<svg id=\"err-chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
            "role=\"img\" aria-label=\"relative error per layer\">\n",
            W, H, W, H);
    for (int d = dlo; d <= dhi; d++) {
        double y = MT + ph - ph * (d - dlo) / (double)(dhi - dlo);
        fprintf(f,
                "<line x1=\"%d\" x2=\"%g\" y1=\"%g\" y2=\"%g\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%g\" class=\"ylab\">1e%d</text>\n",
                ML, ML + pw, y, y, ML - 6, y + 4, d);
    }
    long tick = n_layers > 24 ? (n_layers + 11) / 12 : 1;
    for (long l = 0; l < n_layers; l += tick)
        fprintf(f, "<text x=\"%g\" y=\"%d\" class=\"xlab\">%ld</text>\n", ML + xs * (double)l,
                H - MB + 16, l);
    fprintf(f, "<text x=\"%g\" y=\"%d\" class=\"xlab\">layer</text>\n", ML + pw / 2, H - 4);
    for (int k = 0; k < nk; k++) {
        const char *col = palette[k % (int)(sizeof palette / sizeof *palette)];
        /* points in layer order: the table order need not be */
        double *ys = malloc((size_t)n_layers * sizeof *ys);
        char *have = calloc((size_t)n_layers, 1);
        if (!ys || !have) {
            free(ys);
            free(have);
            continue;
        }
        for (size_t i = 0; i < r->n_tensors; i++) {
            long l;
            if (charted(&r->tensors[i], kind, sizeof kind, &l) && !strcmp(kind, kinds[k]) &&
                l < n_layers && !have[l]) {
                double v = r->tensors[i].m.rel_rms;
                double e = !isfinite(v) ? dhi : v > 0 ? log10(v) : dlo;
                e = fmax(dlo, fmin(dhi, e));
                ys[l] = MT + ph - ph * (e - dlo) / (double)(dhi - dlo);
                have[l] = 1;
            }
        }
        fprintf(f, "<polyline class=\"series\" data-kind=\"");
        esc(f, kinds[k]);
        fprintf(f, "\" stroke=\"%s\" points=\"", col);
        for (long l = 0; l < n_layers; l++)
            if (have[l])
                fprintf(f, "%.1f,%.1f ", ML + xs * (double)l, ys[l]);
        fputs("\"/>\n", f);
        for (size_t i = 0; i < r->n_tensors; i++) {
            long l;
            if (!charted(&r->tensors[i], kind, sizeof kind, &l) || strcmp(kind, kinds[k]))
                continue;
            if (l >= n_layers || !have[l])
                continue;
            have[l] = 0; /* one point per layer and kind */
            fprintf(f, "<circle class=\"pt\" data-kind=\"");
            esc(f, kinds[k]);
            fprintf(f,
                    "\" data-layer=\"%ld\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
                    "<title>",
                    l, ML + xs * (double)l, ys[l], col);
            esc(f, r->tensors[i].name);
            fprintf(f, ": rel_err %.4g</title></circle>\n", r->tensors[i].m.rel_rms);
        }
        fprintf(f,
                "<rect x=\"%g\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>"
                "<text x=\"%g\" y=\"%d\" class=\"legend\">",
                ML + pw + 16, MT + 6 + 18 * k, col, ML + pw + 36, MT + 12 + 18 * k);
        esc(f, kinds[k]);
        fputs("</text>\n", f);
        free(ys);
        free(have);
    }
    fprintf(f,
            "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%g\" class=\"axis\"/>"
            "<line x1=\"%d\" x2=\"%g\" y1=\"%g\" y2=\"%g\" class=\"axis\"/>\n</svg>\n",
            ML, ML, MT, MT + ph, ML, ML + pw, MT + ph, MT + ph);
}

static void bpw_chart(FILE *f, const vfy_report *r, long n_layers) {
    double *bits = calloc((size_t)n_layers, sizeof *bits);
    double *elems = calloc((size_t)n_layers, sizeof *elems);
    char kind[64];
    if (!bits || !elems)
        goto out;
    for (size_t i = 0; i < r->n_tensors; i++) {
        const vfy_tensor_diff *t = &r->tensors[i];
        long l = layer_of(t->name, kind, sizeof kind);
        if (l >= 0 && l < n_layers && t->type >= 0) {
            bits[l] += 8.0 * (double)t->bytes;
            elems[l] += (double)t->n_elements;
        }
    }
    double top = 1;
    for (long l = 0; l < n_layers; l++)
        if (elems[l] > 0)
            top = fmax(top, bits[l] / elems[l]);
    top = ceil(top / 4) * 4;
    int h = 220;
    double pw = W - ML - MR, ph = h - MT - MB, bw = pw / (double)n_layers;
    fprintf(f,
            "<svg id=\"bpw-chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
            "role=\"img\" aria-label=\"bits per weight per layer\">\n",
            W, h, W, h);
    for (double v = 0; v <= top; v += top / 4) {
        double y = MT + ph - ph * v / top;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%g\" y1=\"%g\" y2=\"%g\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%g\" class=\"ylab\">%g</text>\n",
                ML, ML + pw, y, y, ML - 6, y + 4, v);
    }
    for (long l = 0; l < n_layers; l++) {
        double v = elems[l] > 0 ? bits[l] / elems[l] : 0;
        double bh = ph * v / top;
        fprintf(f,
                "<rect class=\"bar\" data-layer=\"%ld\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\"><title>layer %ld: %.3f bpw</title></rect>\n",
                l, ML + bw * (double)l + bw * 0.15, MT + ph - bh, bw * 0.7, bh, l, v);
    }
    fprintf(f, "<text x=\"%g\" y=\"%d\" class=\"xlab\">layer (0..%ld)</text>\n</svg>\n",
            ML + pw / 2, h - 8, n_layers - 1);
out:
    free(bits);
    free(elems);
}

static const char *style =
    "body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    ".grid{stroke:#e3e3e3}.axis{stroke:#555}.series{fill:none;stroke-width:1.8}"
    ".ylab{font-size:11px;text-anchor:end;fill:#555}.xlab{font-size:11px;text-anchor:middle;"
    "fill:#555}.legend{font-size:12px}.bar{fill:#4c78a8}"
    "table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid "
    "#eee;text-align:right}td:first-child,th:first-child{text-align:left}"
    "th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th:hover{background:#e8e8e8}"
    ".meta{color:#555}";

/* Click a header: sort by its column (numbers by data-v), again to reverse. */
static const char *script =
    "document.querySelectorAll('#tensors th').forEach(function(th,col){"
    "th.addEventListener('click',function(){"
    "var tb=document.querySelector('#tensors tbody'),rows=Array.from(tb.rows);"
    "var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir>0?'asc':'desc';"
    "rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];"
    "if(!x||!y)return x?-1:y?1:0;"
    "if(x.dataset.v!==undefined&&y.dataset.v!==undefined){"
    "var p=parseFloat(x.dataset.v),q=parseFloat(y.dataset.v);"
    "if(isNaN(p))return 1;if(isNaN(q))return -1;return (p-q)*dir;}"
    "return x.textContent.localeCompare(y.textContent)*dir;});"
    "rows.forEach(function(r){tb.appendChild(r);});});});";

gk_status vfy_report_html(const vfy_report *r, char **html, size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return GK_E_NOMEM;
    long n_layers = 0;
    char kind[64];
    for (size_t i = 0; i < r->n_tensors; i++) {
        long l = layer_of(r->tensors[i].name, kind, sizeof kind);
        if (l + 1 > n_layers)
            n_layers = l + 1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    esc(f, r->title);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>", style);
    esc(f, r->title);
    fputs("</h1>\n<p class=\"meta\">reference: <b>", f);
    esc(f, r->ref_label);
    fputs("</b><br>compared: <b>", f);
    esc(f, r->test_label);
    fputs("</b></p>\n", f);
    if (n_layers > 0) {
        fputs("<h2>Relative RMS error per layer</h2>\n", f);
        error_chart(f, r, n_layers);
        fputs("<h2>Bits per weight per layer (compared model)</h2>\n", f);
        bpw_chart(f, r, n_layers);
    } else {
        fputs("<p>No blk.N tensors: no per-layer charts.</p>\n", f);
    }
    fputs("<h2>Tensors</h2>\n<table id=\"tensors\"><thead><tr><th>name</th><th>type A</th>"
          "<th>type B</th><th>elements</th><th>bpw B</th><th>rmse</th><th>max abs</th>"
          "<th>rel err</th><th>cosine</th><th>SNR dB</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->n_tensors; i++) {
        const vfy_tensor_diff *t = &r->tensors[i];
        fputs("<tr><td>", f);
        esc(f, t->name);
        fprintf(f, "</td><td>%s</td><td>%s</td><td data-v=\"%llu\">%llu</td>",
                t->ref_type < 0 ? "-" : kern_type_label(t->ref_type),
                t->type < 0 ? "-" : kern_type_label(t->type), (unsigned long long)t->n_elements,
                (unsigned long long)t->n_elements);
        num_cell(
            f, t->type >= 0 && t->n_elements ? 8.0 * (double)t->bytes / (double)t->n_elements : NAN,
            "%.3f");
        if (t->status == VFY_TENSOR_COMPARED) {
            num_cell(f, t->m.rmse, "%.3e");
            num_cell(f, t->m.max_abs_err, "%.3e");
            num_cell(f, t->m.rel_rms, "%.3e");
            num_cell(f, t->m.cosine, "%.6f");
            num_cell(f, t->m.snr_db, "%.2f");
        } else {
            const char *s = t->status == VFY_TENSOR_MISSING     ? "missing in B"
                            : t->status == VFY_TENSOR_EXTRA     ? "only in B"
                            : t->status == VFY_TENSOR_MISSHAPED ? "shapes differ"
                                                                : "cannot decode";
            fprintf(f, "<td colspan=\"5\" style=\"text-align:center\">%s</td>", s);
        }
        fputs("</tr>\n", f);
    }
    fprintf(f, "</tbody></table>\n<script>%s</script>\n</body></html>\n", script);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return GK_E_NOMEM;
    }
    *html = buf;
    *len = n;
    return GK_OK;
}
