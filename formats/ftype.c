/* ftype.c -- llama_ftype ids and their names (llama.h enum llama_ftype). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ftype.h"

typedef struct {
    int id;
    const char *name; /* enum name without the LLAMA_FTYPE_ prefix */
} ftype_row;

/* Ids 4-6 and 33-35 were retired upstream; they stay unknown here. */
static const ftype_row ftypes[] = {
    {0, "ALL_F32"},        {1, "MOSTLY_F16"},      {2, "MOSTLY_Q4_0"},
    {3, "MOSTLY_Q4_1"},    {7, "MOSTLY_Q8_0"},     {8, "MOSTLY_Q5_0"},
    {9, "MOSTLY_Q5_1"},    {10, "MOSTLY_Q2_K"},    {11, "MOSTLY_Q3_K_S"},
    {12, "MOSTLY_Q3_K_M"}, {13, "MOSTLY_Q3_K_L"},  {14, "MOSTLY_Q4_K_S"},
    {15, "MOSTLY_Q4_K_M"}, {16, "MOSTLY_Q5_K_S"},  {17, "MOSTLY_Q5_K_M"},
    {18, "MOSTLY_Q6_K"},   {19, "MOSTLY_IQ2_XXS"}, {20, "MOSTLY_IQ2_XS"},
    {21, "MOSTLY_Q2_K_S"}, {22, "MOSTLY_IQ3_XS"},  {23, "MOSTLY_IQ3_XXS"},
    {24, "MOSTLY_IQ1_S"},  {25, "MOSTLY_IQ4_NL"},  {26, "MOSTLY_IQ3_S"},
    {27, "MOSTLY_IQ3_M"},  {28, "MOSTLY_IQ2_S"},   {29, "MOSTLY_IQ2_M"},
    {30, "MOSTLY_IQ4_XS"}, {31, "MOSTLY_IQ1_M"},   {32, "MOSTLY_BF16"},
    {36, "MOSTLY_TQ1_0"},  {37, "MOSTLY_TQ2_0"},   {38, "MOSTLY_MXFP4_MOE"},
    {39, "MOSTLY_NVFP4"},  {40, "MOSTLY_Q1_0"},    {FMT_FTYPE_GUESSED, "GUESSED"},
};

static const ftype_row *find_id(int id) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (ftypes[i].id == id)
            return &ftypes[i];
    return NULL;
}

const char *fmt_ftype_name(int ftype) {
    const ftype_row *r = find_id(ftype);
    return r ? r->name : NULL;
}

void fmt_size_label(uint64_t params, char *buf, size_t cap) {
    double n = (double)params, scaled;
    const char *suffix;
    if (n > 1e12) {
        scaled = n * 1e-12;
        suffix = "T";
    } else if (n > 1e9) {
        scaled = n * 1e-9;
        suffix = "B";
    } else if (n > 1e6) {
        scaled = n * 1e-6;
        suffix = "M";
    } else {
        scaled = n * 1e-3;
        suffix = "K";
    }
    /* decimals = max(2 - digits of round(scaled) without leading zeros, 0);
     * Python's round() is half-to-even, as rint() is by default */
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", rint(scaled));
    size_t nd = strlen(digits) - strspn(digits, "0");
    int fix = nd >= 2 ? 0 : 2 - (int)nd;
    snprintf(buf, cap, "%.*f%s", fix, scaled, suffix);
}
