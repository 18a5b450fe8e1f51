/*
 * jsontext: strict parsing of JSON text into json-c values, for input
 * that people write by hand or other programs generate: RFC 8259 syntax
 * only (no comments, trailing commas, single quotes, NaN), valid UTF-8, one
 * value with nothing but whitespace after it, and integers that fit in 64
 * bits (json-c alone would silently clamp larger ones).
 */
#ifndef RITRA_JSONTEXT_H
#define RITRA_JSONTEXT_H

#include <stddef.h>

#include <json-c/json.h>

/* Parses text[0..len). Returns the value, to be released with
 * json_object_put() (NULL is also the JSON value null: check *why), or NULL
 * with why[] set to "line L, column C: reason" and non-empty. */
struct json_object *jsontext_parse(const char *text, size_t len, char *why, size_t why_size);

/* Whether s[0..len) is strict UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), as protobuf strings must be. */
int jsontext_utf8_valid(const unsigned char *s, size_t len);

#endif
