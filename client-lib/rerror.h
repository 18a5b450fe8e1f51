/*
 * Filling struct ritra_error (internal to libritra, not installed).
 *
 * Every libritra module reports through these, so messages are bounded,
 * never split a UTF-8 sequence and never carry control characters from the
 * server to the caller's terminal.
 */
#ifndef RITRA_RERROR_H
#define RITRA_RERROR_H

#include <stddef.h>

#include "ritra.h"

/* Sets code and a formatted message; clears details. */
void rerror_set(struct ritra_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Code 0, empty message and details. */
void rerror_clear(struct ritra_error *err);

/* Copies src (NULL: "") into dst[size], cut at a UTF-8 character boundary;
 * with sanitize, control characters become '?'. */
void rerror_copy_text(char *dst, size_t size, const char *src, int sanitize);

#endif
