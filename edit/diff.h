/*
 * diff.h -- gguf-edit --dry-run: the metadata an edit changes, old -> new,
 * as text or as JSON, on stdout. Values from the file are escaped: no raw
 * byte reaches the terminal.
 */
#ifndef EDIT_DIFF_H
#define EDIT_DIFF_H

#include <stdio.h>

#include "formats/gguf.h"
#include "ggufkit.h"

/* Print the keys removed from, added to and changed between old and new
 * (order changes are not listed) to f: text lines "- KEY type",
 * "+ KEY type = VALUE", "~ KEY type = OLD -> type = NEW" and a count line,
 * or with json one object {"removed":[...],"added":[...],"changed":[...]}
 * whose entries hold key, type and value (arrays: elem_type and n).
 * GK_E_NOMEM or GK_E_IO (a write to f failed). */
gk_status ed_diff_print(FILE *f, const fmt_gguf *old, const fmt_gguf *new_, int json);

#endif
