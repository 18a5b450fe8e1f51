/*
 * Bounded, sanitised error text for struct ritra_error.
 */
#include "rerror.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t utf8_cut(const char *s, size_t max)
{
    /* s is longer than max: back up to the start of the cut character. */
    size_t n = max;

    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

void rerror_copy_text(char *dst, size_t size, const char *src, int sanitize)
{
    size_t len = src ? strlen(src) : 0;

    if (len >= size)
        len = utf8_cut(src, size - 1);
    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
    for (size_t i = 0; sanitize && i < len; i++) {
        unsigned char ch = (unsigned char)dst[i];

        if (ch < 0x20 || ch == 0x7f)
            dst[i] = '?';
    }
}

void rerror_set(struct ritra_error *err, int code, const char *fmt, ...)
{
    /* Twice the room, so that the cut below, not vsnprintf, decides where
     * a long message ends (at a character boundary). */
    char buf[2 * sizeof(err->message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    err->code = code;
    rerror_copy_text(err->message, sizeof(err->message), buf, 1);
    err->details[0] = '\0';
}

void rerror_clear(struct ritra_error *err)
{
    err->code = 0;
    err->message[0] = '\0';
    err->details[0] = '\0';
}
