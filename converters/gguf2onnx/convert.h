/*
 * convert.h -- gguf2onnx's conversion: one GGUF into OUTDIR (model.onnx,
 * model.onnx.data, genai_config.json and the tokenizer files), built as
 * OUTDIR.tmp.XXXXXX beside the target and renamed into place at the end,
 * so that a failure or a signal leaves nothing behind.
 */
#ifndef CONVERTERS_GGUF2ONNX_CONVERT_H
#define CONVERTERS_GGUF2ONNX_CONVERT_H

#include <stdio.h>

#include "converters/gguf2onnx/decoder.h"
#include "converters/gguf2onnx/weights.h"
#include "ggufkit.h"

typedef struct {
    const char *input, *outdir; /* borrowed; input may be "-" */
    int force;                  /* replace an OUTDIR that holds only our files */
    ox_weights_mode weights;
    ox_graph_kind graph;
    int kv_f16;       /* KV cache inputs/outputs in f16 */
    int accuracy;     /* MatMulNBits accuracy_level, -1 = default */
    int no_tokenizer; /* skip tokenizer.json / tokenizer_config.json */
    int progress;     /* -1 auto, 0 off, 1 on (fmt_progress_start) */
} ox_convert_opts;

/* Convert o->input into o->outdir. The summary goes to the log (display
 * level 2, one line per tensor at 3); when json_out is non-NULL the
 * per-tensor mapping report is written there as JSON. On failure returns
 * the status and fills e: the input for bad or unsupported input, OUTDIR
 * for what cannot be written; nothing is left at OUTDIR. */
gk_status ox_convert(const ox_convert_opts *o, FILE *json_out, gk_error *e);

#endif
