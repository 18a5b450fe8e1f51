/*
 * Wire-level string check. protobuf-c accepts any bytes in a string field
 * and hands them over NUL-terminated, so invalid UTF-8 would pass and an
 * embedded NUL would silently truncate the value. Walking the encoded
 * message with its descriptor catches both, for every string field of
 * every message, present and future, in one place.
 */
#ifndef RITRA_PBCHECK_H
#define RITRA_PBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define PBCHECK_MAX_DEPTH 16

/* Called for each bad string field with its path and the reason. */
typedef void (*pbcheck_fn)(const char *path, const char *why, void *arg);

/* Visits every string field; calls fn for each bad one and goes on.
 * Returns 0 when the encoding itself is well-formed (bad strings or not),
 * -1 when it is not (then fn was called for that too, with the reason). */
int pbcheck_visit(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                  pbcheck_fn fn, void *arg);

/* Returns 0 when every string field is well-formed UTF-8 without NUL.
 * Otherwise -1, with the field's dotted path (e.g. "ping.agency.code",
 * repeated elements as name[i]) and the reason written to path/why. A
 * malformed encoding is reported too (path "" when not inside a field). */
int pbcheck_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                    char *path, size_t pathlen, char *why, size_t whylen);

/* Well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int pbcheck_utf8(const uint8_t *s, size_t len);

#endif
