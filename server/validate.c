#include "validate.h"

#include "pbcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fe_init(struct field_errors *fe)
{
    fe->count = 0;
    fe->dropped = 0;
}

void fe_add(struct field_errors *fe, const char *path, const char *fmt, ...)
{
    struct field_error *e;
    va_list ap;

    if (fe->count == VALIDATE_MAX_ERRORS) {
        fe->dropped++;
        return;
    }
    e = &fe->items[fe->count++];
    snprintf(e->path, sizeof(e->path), "%s", path);
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
}

bool utf8_valid(const char *s, size_t len)
{
    return pbcheck_utf8((const uint8_t *)s, len) == 0;
}

bool validate_text(struct field_errors *fe, const char *path, const char *s, size_t max_bytes,
                   bool required, bool multiline)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0) {
        if (required)
            fe_add(fe, path, "required");
        return !required;
    }
    if (len > max_bytes) {
        fe_add(fe, path, "longer than %zu bytes", max_bytes);
        return false;
    }
    if (!utf8_valid(s, len)) {
        fe_add(fe, path, "not valid UTF-8");
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f) {
            fe_add(fe, path, "contains a control character");
            return false;
        }
    }
    return true;
}
