/*
 * Checks applied to every field that arrives from a client, and the list of
 * per-field errors a reply carries back (path + reason).
 */
#ifndef RITRA_VALIDATE_H
#define RITRA_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define VALIDATE_MAX_ERRORS 32

struct field_error {
    char path[128];
    char reason[256];
};

struct field_errors {
    struct field_error items[VALIDATE_MAX_ERRORS];
    size_t count;
    size_t dropped; /* errors past VALIDATE_MAX_ERRORS, reported as a count */
};

void fe_init(struct field_errors *fe);
void fe_add(struct field_errors *fe, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* A text field: valid UTF-8, at most max_bytes, no control characters
 * (tab/newline allowed only if multiline). Adds an error under path. */
bool validate_text(struct field_errors *fe, const char *path, const char *s, size_t max_bytes,
                   bool required, bool multiline);

#endif
