#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->cap - w->len < n + 1) {
        size_t cap = w->cap ? w->cap : 256;
        char *nb;

        while (cap - w->len < n + 1)
            cap *= 2;
        nb = realloc(w->buf, cap);
        if (nb == NULL) {
            w->failed = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Separates this value from the previous one at the same level. */
static void value_start(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

static void open_level(struct jsonw *w, const char *c)
{
    value_start(w);
    put(w, c, 1);
    if (w->depth == JSONW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_level(struct jsonw *w, const char *c)
{
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    put(w, c, 1);
}

void jsonw_obj_begin(struct jsonw *w)
{
    open_level(w, "{");
}

void jsonw_obj_end(struct jsonw *w)
{
    close_level(w, "}");
}

void jsonw_arr_begin(struct jsonw *w)
{
    open_level(w, "[");
}

void jsonw_arr_end(struct jsonw *w)
{
    close_level(w, "]");
}

static void put_escaped(struct jsonw *w, const char *s)
{
    const char *run = s;

    put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
        }
        run = s + 1;
    }
    put(w, run, (size_t)(s - run));
    put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    value_start(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->after_key = true;
}

void jsonw_str(struct jsonw *w, const char *s)
{
    if (s == NULL || *s == '\0') {
        jsonw_null(w);
        return;
    }
    value_start(w);
    put_escaped(w, s);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    value_start(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", (long long)v);

    value_start(w);
    put(w, num, (size_t)n);
}

void jsonw_double(struct jsonw *w, double v)
{
    char num[32];
    int n;

    if (v != v || v > 1e15 || v < -1e15) { /* JSON has no NaN or infinity */
        jsonw_null(w);
        return;
    }
    n = snprintf(num, sizeof(num), "%.3f", v);
    value_start(w);
    put(w, num, (size_t)n);
}

void jsonw_null(struct jsonw *w)
{
    value_start(w);
    put(w, "null", 4);
}

void jsonw_strs(struct jsonw *w, char *const *v, size_t n)
{
    jsonw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        value_start(w);
        put_escaped(w, v[i] ? v[i] : "");
    }
    jsonw_arr_end(w);
}

const char *jsonw_finish(struct jsonw *w)
{
    if (w->failed || w->depth != 0 || w->buf == NULL)
        return NULL;
    return w->buf;
}
