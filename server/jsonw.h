/*
 * A small JSON writer for the projections the server hands PostgreSQL
 * (jsonb parameters). Strings are escaped per RFC 8259; commas are placed
 * by the writer. Errors (out of memory, nesting too deep) are sticky and
 * reported once, by jsonw_finish().
 */
#ifndef RITRA_JSONW_H
#define RITRA_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
    char *buf;
    size_t len, cap;
    int depth;
    bool need_comma[JSONW_MAX_DEPTH + 1];
    bool after_key;
    bool failed;
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);

void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
/* NULL or "" are written as null: the projection has no empty strings. */
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_int(struct jsonw *w, int64_t v);
/* Three decimals; NaN and huge values are written as null. */
void jsonw_double(struct jsonw *w, double v);
void jsonw_null(struct jsonw *w);
/* An array of strings (each escaped). */
void jsonw_strs(struct jsonw *w, char *const *v, size_t n);

/* The NUL-terminated text, owned by w; NULL if anything failed. */
const char *jsonw_finish(struct jsonw *w);

#endif
