/*
 * pbjson: converts between protobuf-c messages and json-c values, driven
 * by the message descriptors alone, so every message of the schema gets
 * the same JSON form with no per-message code.
 *
 * The JSON form:
 *   - an object per message; its keys are exactly the descriptor field
 *     names ("prs_FirstName", "cas_Status", "persons"); any other key is
 *     refused, as is a second member of one oneof;
 *   - string: JSON string (no NUL); bool: true/false;
 *   - int32/sint32/sfixed32, int64/..., uint32/..., uint64/...: JSON
 *     integers (a 64-bit value is a plain JSON number, not a string), in
 *     range for the field; 1.0 or 1e3 is refused;
 *   - float/double: JSON number, finite;
 *   - enum: the value's name as a string ("OK", "INVALID_ARGUMENT");
 *   - repeated: array; message: object; null stands for an absent field;
 *   - bytes fields are not supported (the schema has none).
 * From a message, fields at their default (empty string, 0, false, empty
 * array, absent message) are left out, so output is compact and converts
 * back to the same message; a selected oneof member is always written.
 */
#ifndef RITRA_PBJSON_H
#define RITRA_PBJSON_H

#include <stddef.h>

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

/* Deepest nesting of objects and arrays accepted from JSON. */
#define PBJSON_MAX_DEPTH 16

struct pbjson_error {
    char path[256];   /* where: "persons[1].prs_FirstName"; "" for the top */
    char reason[256]; /* what: "unknown field", "expected a string, got 3" */
};

/* Builds a new message of type desc from json (an object). Returns 0 with
 * *out set, to be freed with protobuf_c_message_free_unpacked(*out, NULL),
 * or -1 with *out NULL and *err saying where and why. */
int pbjson_to_message(const ProtobufCMessageDescriptor *desc, struct json_object *json,
                      ProtobufCMessage **out, struct pbjson_error *err);

/* Builds the JSON object for msg. Returns 0 with *out set, to be released
 * with json_object_put(), or -1 with *out NULL and *err filled (a
 * non-finite double, a bytes field, out of memory). */
int pbjson_from_message(const ProtobufCMessage *msg, struct json_object **out,
                        struct pbjson_error *err);

#endif
