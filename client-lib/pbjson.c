/*
 * pbjson: descriptor-driven protobuf-c <-> json-c conversion.
 *
 * JSON -> message allocates exactly as protobuf_c_message_unpack() does
 * with the default allocator (every message, array and string from
 * malloc, a oneof's case set before its member), so the result, and any
 * partial result on an error, is freed by protobuf_c_message_free_unpacked.
 */
#include "pbjson.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

/* Where the conversion is, for error messages. */
struct walk {
    struct pbjson_error *err;
    char path[sizeof(((struct pbjson_error *)0)->path)];
    size_t len;
};

#define MEMBER(msg, offset)  ((void *)((char *)(msg) + (offset)))
#define CMEMBER(msg, offset) ((const void *)((const char *)(msg) + (offset)))

/* ---- errors and paths ---- */

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct walk *w, const char *fmt, ...)
{
    va_list ap;

    snprintf(w->err->path, sizeof(w->err->path), "%s", w->path);
    va_start(ap, fmt);
    vsnprintf(w->err->reason, sizeof(w->err->reason), fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends to the path; returns the mark that path_pop restores. A path too
 * long for the buffer keeps its beginning, which locates the error best. */
static size_t path_push(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct walk *w, const char *fmt, ...)
{
    size_t mark = w->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(w->path + w->len, sizeof(w->path) - w->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->len += (size_t)n < sizeof(w->path) - w->len ? (size_t)n : sizeof(w->path) - w->len - 1;
    return mark;
}

static size_t path_key(struct walk *w, const char *key)
{
    return path_push(w, w->len ? ".%s" : "%s", key);
}

static void path_pop(struct walk *w, size_t mark)
{
    w->len = mark;
    w->path[mark] = '\0';
}

/* "a string", "3", "1.5", "true", "an array", ... for "expected X, got Y". */
static const char *describe(struct json_object *v, char *buf, size_t size)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
    case json_type_double:
        snprintf(buf, size, "%s", json_object_to_json_string(v));
        return buf;
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "an unknown JSON value";
}

static int type_error(struct walk *w, const char *expected, struct json_object *v)
{
    char buf[64];

    return fail(w, "expected %s, got %s", expected, describe(v, buf, sizeof(buf)));
}

/* ---- JSON -> message ---- */

static int to_message(struct walk *w, const ProtobufCMessageDescriptor *d, struct json_object *j,
                      ProtobufCMessage **out);

/* Checks the whole tree's nesting first: the schema bounds the depth of
 * anything that converts, but the error must name the too-deep spot rather
 * than whatever type mismatch the walk would stumble on there. */
static int check_depth(struct walk *w, struct json_object *j, int depth)
{
    enum json_type t = json_object_get_type(j);

    if (t != json_type_object && t != json_type_array)
        return 0;
    if (depth > PBJSON_MAX_DEPTH)
        return fail(w, "nested deeper than %d levels", PBJSON_MAX_DEPTH);
    if (t == json_type_array) {
        size_t n = json_object_array_length(j);

        for (size_t i = 0; i < n; i++) {
            size_t mark = path_push(w, "[%zu]", i);

            if (check_depth(w, json_object_array_get_idx(j, i), depth + 1) < 0)
                return -1;
            path_pop(w, mark);
        }
        return 0;
    }
    json_object_object_foreach(j, key, val)
    {
        size_t mark = path_key(w, key);

        if (check_depth(w, val, depth + 1) < 0)
            return -1;
        path_pop(w, mark);
    }
    return 0;
}

/* An integer in [min, max] (signed targets). json-c keeps values above
 * INT64_MAX as uint64 and reports them clamped; look behind the clamp. */
static int get_signed(struct walk *w, struct json_object *v, int64_t min, int64_t max,
                      const char *type, int64_t *out)
{
    int64_t i;

    if (!json_object_is_type(v, json_type_int))
        return type_error(w, "an integer", v);
    i = json_object_get_int64(v);
    if ((i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) || i < min || i > max)
        return fail(w, "%s is out of range for %s", json_object_to_json_string(v), type);
    *out = i;
    return 0;
}

static int get_unsigned(struct walk *w, struct json_object *v, uint64_t max, const char *type,
                        uint64_t *out)
{
    uint64_t u;

    if (!json_object_is_type(v, json_type_int))
        return type_error(w, "an integer", v);
    u = json_object_get_uint64(v);
    if ((u == 0 && json_object_get_int64(v) < 0) || u > max)
        return fail(w, "%s is out of range for %s", json_object_to_json_string(v), type);
    *out = u;
    return 0;
}

static int get_double(struct walk *w, struct json_object *v, double *out)
{
    double d;

    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return type_error(w, "a number", v);
    d = json_object_get_double(v);
    if (!isfinite(d))
        return fail(w, "%s is not a finite number", json_object_to_json_string(v));
    *out = d;
    return 0;
}

static int get_string(struct walk *w, struct json_object *v, char **out)
{
    const char *s;
    size_t len;

    if (!json_object_is_type(v, json_type_string))
        return type_error(w, "a string", v);
    s = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', len) != NULL)
        return fail(w, "contains a NUL character");
    if (!jsontext_utf8_valid((const unsigned char *)s, len))
        return fail(w, "is not valid UTF-8");
    *out = strdup(s);
    if (*out == NULL)
        return fail(w, "out of memory");
    return 0;
}

static int get_enum(struct walk *w, const ProtobufCEnumDescriptor *ed, struct json_object *v,
                    int *out)
{
    const ProtobufCEnumValue *ev;

    if (!json_object_is_type(v, json_type_string))
        return type_error(w, "a string naming a value", v);
    ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_object_get_string(v));
    if (ev == NULL)
        return fail(w, "\"%.64s\" is not a value of %s", json_object_get_string(v), ed->name);
    *out = ev->value;
    return 0;
}

/* Stores one value of field f's type at slot. */
static int set_value(struct walk *w, const ProtobufCFieldDescriptor *f, void *slot,
                     struct json_object *v)
{
    int64_t i;
    uint64_t u;
    double d;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (get_signed(w, v, INT32_MIN, INT32_MAX, "int32", &i) < 0)
            return -1;
        *(int32_t *)slot = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return get_signed(w, v, INT64_MIN, INT64_MAX, "int64", (int64_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (get_unsigned(w, v, UINT32_MAX, "uint32", &u) < 0)
            return -1;
        *(uint32_t *)slot = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return get_unsigned(w, v, UINT64_MAX, "uint64", (uint64_t *)slot);
    case PROTOBUF_C_TYPE_FLOAT:
        if (get_double(w, v, &d) < 0)
            return -1;
        if (fabs(d) > FLT_MAX)
            return fail(w, "%s is out of range for float", json_object_to_json_string(v));
        *(float *)slot = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return get_double(w, v, (double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return type_error(w, "true or false", v);
        *(protobuf_c_boolean *)slot = json_object_get_boolean(v) ? 1 : 0;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return get_enum(w, f->descriptor, v, (int *)slot);
    case PROTOBUF_C_TYPE_STRING:
        return get_string(w, v, (char **)slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return to_message(w, f->descriptor, v, (ProtobufCMessage **)slot);
    case PROTOBUF_C_TYPE_BYTES:
        break;
    }
    return fail(w, "fields of this type are not supported");
}

static size_t slot_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

static int set_repeated(struct walk *w, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        struct json_object *v)
{
    size_t n, size = slot_size(f->type);
    char *arr;

    if (!json_object_is_type(v, json_type_array))
        return type_error(w, "an array", v);
    n = json_object_array_length(v);
    if (n == 0)
        return 0;
    /* Zeroed and counted up front: a partial array frees cleanly. */
    arr = calloc(n, size);
    if (arr == NULL)
        return fail(w, "out of memory");
    *(void **)MEMBER(m, f->offset) = arr;
    *(size_t *)MEMBER(m, f->quantifier_offset) = n;
    for (size_t i = 0; i < n; i++) {
        struct json_object *el = json_object_array_get_idx(v, i);
        size_t mark = path_push(w, "[%zu]", i);

        if (el == NULL)
            return fail(w, "null is not allowed in an array");
        if (set_value(w, f, arr + i * size, el) < 0)
            return -1;
        path_pop(w, mark);
    }
    return 0;
}

static int set_field(struct walk *w, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m,
                     const ProtobufCFieldDescriptor *f, struct json_object *v)
{
    if (v == NULL)
        return 0; /* null: the field stays absent */
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = MEMBER(m, f->quantifier_offset);

        if (*which != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(d, *which);

            return fail(w, "conflicts with \"%s\": only one of them may be set",
                        other ? other->name : "?");
        }
        *which = f->id;
        return set_value(w, f, MEMBER(m, f->offset), v);
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return set_repeated(w, m, f, v);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
        *(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
    return set_value(w, f, MEMBER(m, f->offset), v);
}

static int to_message(struct walk *w, const ProtobufCMessageDescriptor *d, struct json_object *j,
                      ProtobufCMessage **out)
{
    ProtobufCMessage *m;

    if (!json_object_is_type(j, json_type_object))
        return type_error(w, "an object", j);
    m = malloc(d->sizeof_message);
    if (m == NULL)
        return fail(w, "out of memory");
    d->message_init(m);
    *out = m;
    json_object_object_foreach(j, key, val)
    {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        size_t mark = path_key(w, key);

        if (f == NULL)
            return fail(w, "unknown field");
        if (set_field(w, d, m, f, val) < 0)
            return -1;
        path_pop(w, mark);
    }
    return 0;
}

int pbjson_to_message(const ProtobufCMessageDescriptor *desc, struct json_object *json,
                      ProtobufCMessage **out, struct pbjson_error *err)
{
    struct walk w = {.err = err};
    ProtobufCMessage *m = NULL;

    *out = NULL;
    err->path[0] = err->reason[0] = '\0';
    if (check_depth(&w, json, 1) < 0)
        return -1;
    if (to_message(&w, desc, json, &m) < 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        return -1;
    }
    *out = m;
    return 0;
}

/* ---- message -> JSON ---- */

static int from_message(struct walk *w, const ProtobufCMessage *m, struct json_object **out);

/* The shortest of %.15g..%.17g that reads back as the same double, so
 * 4.6097 prints as 4.6097 and not as 4.6097000000000001. */
static struct json_object *new_double(double d)
{
    char buf[32];

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return json_object_new_double_s(d, buf);
}

static int value_to_json(struct walk *w, const ProtobufCFieldDescriptor *f, const void *slot,
                         struct json_object **out)
{
    const ProtobufCEnumValue *ev;
    const char *s;
    double d;

    *out = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *out = json_object_new_int64(*(const int32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *out = json_object_new_int64(*(const int64_t *)slot);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *out = json_object_new_int64(*(const uint32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *out = json_object_new_uint64(*(const uint64_t *)slot);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        d = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)slot : *(const double *)slot;
        if (!isfinite(d))
            return fail(w, "is not a finite number");
        *out = new_double(d);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *out = json_object_new_boolean(*(const protobuf_c_boolean *)slot);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        /* A value newer than our schema has no name: keep the number. */
        ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)slot);
        *out = ev ? json_object_new_string(ev->name) : json_object_new_int64(*(const int *)slot);
        break;
    case PROTOBUF_C_TYPE_STRING:
        s = *(char *const *)slot;
        if (s == NULL)
            s = "";
        if (!jsontext_utf8_valid((const unsigned char *)s, strlen(s)))
            return fail(w, "is not valid UTF-8");
        *out = json_object_new_string(s);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        return from_message(w, *(ProtobufCMessage *const *)slot, out);
    case PROTOBUF_C_TYPE_BYTES:
        return fail(w, "fields of this type are not supported");
    }
    return *out != NULL ? 0 : fail(w, "out of memory");
}

/* Whether a plain (non-repeated, non-oneof) field holds its default. Bit
 * patterns, not ==, for floating point: protobuf-c packs -0.0, so it must
 * be written too for the JSON to convert back to the same bytes. */
static int is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;

        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)slot == NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    default: {
        static const unsigned char zero[8];

        return memcmp(slot, zero, slot_size(f->type)) == 0;
    }
    }
}

/* Whether field f of m is written at all. */
static int field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const void *slot = CMEMBER(m, f->offset);

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)CMEMBER(m, f->quantifier_offset) != f->id)
            return 0;
        /* The selected member is written even at its default; only a
         * missing message or string has nothing to write. */
        return (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) ||
               *(const void *const *)slot != NULL;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)CMEMBER(m, f->quantifier_offset) > 0;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
        return *(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
        (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE))
        return *(const void *const *)slot != NULL;
    return f->label == PROTOBUF_C_LABEL_REQUIRED || !is_default(f, slot);
}

static int field_to_json(struct walk *w, const ProtobufCMessage *m,
                         const ProtobufCFieldDescriptor *f, struct json_object **out)
{
    size_t n, size;
    const char *arr;

    if (f->label != PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return value_to_json(w, f, CMEMBER(m, f->offset), out);
    n = *(const size_t *)CMEMBER(m, f->quantifier_offset);
    size = slot_size(f->type);
    arr = *(char *const *)CMEMBER(m, f->offset);
    *out = json_object_new_array_ext((int)(n < INT_MAX ? n : INT_MAX));
    if (*out == NULL)
        return fail(w, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct json_object *el;
        size_t mark = path_push(w, "[%zu]", i);

        if (value_to_json(w, f, arr + i * size, &el) < 0)
            return -1;
        if (json_object_array_add(*out, el) != 0) {
            json_object_put(el);
            return fail(w, "out of memory");
        }
        path_pop(w, mark);
    }
    return 0;
}

static int from_message(struct walk *w, const ProtobufCMessage *m, struct json_object **out)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    *out = json_object_new_object();
    if (*out == NULL)
        return fail(w, "out of memory");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        struct json_object *v = NULL;
        size_t mark;

        if (!field_present(m, f))
            continue;
        mark = path_key(w, f->name);
        if (field_to_json(w, m, f, &v) < 0) {
            json_object_put(v);
            return -1;
        }
        /* Descriptor names are static and unique within a message. */
        if (json_object_object_add_ex(*out, f->name, v,
                                      JSON_C_OBJECT_ADD_KEY_IS_NEW |
                                          JSON_C_OBJECT_KEY_IS_CONSTANT) != 0) {
            json_object_put(v);
            return fail(w, "out of memory");
        }
        path_pop(w, mark);
    }
    return 0;
}

int pbjson_from_message(const ProtobufCMessage *msg, struct json_object **out,
                        struct pbjson_error *err)
{
    struct walk w = {.err = err};
    struct json_object *j = NULL;

    *out = NULL;
    err->path[0] = err->reason[0] = '\0';
    if (from_message(&w, msg, &j) < 0) {
        json_object_put(j);
        return -1;
    }
    *out = j;
    return 0;
}
