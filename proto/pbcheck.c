#include "pbcheck.h"

#include <stdio.h>
#include <string.h>

int pbcheck_utf8(const uint8_t *s, size_t len)
{
    const uint8_t *end = s + len;

    while (s < end) {
        uint8_t c = *s;
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return -1; /* stray continuation byte, overlong lead, or beyond U+10FFFF */
        }
        if ((size_t)(end - s) <= n)
            return -1;
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        s += n + 1;
    }
    return 0;
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

struct walk {
    pbcheck_fn fn;
    void *arg;
    int bad; /* bad strings seen */
};

/* A malformed encoding: the walk cannot go on. */
static int fail(struct walk *w, const char *prefix, const char *why)
{
    w->fn(prefix, why, w->arg);
    return -1;
}

/* A bad string: reported, and the walk goes on. */
static void bad_string(struct walk *w, const char *path, const char *why)
{
    w->bad++;
    w->fn(path, why, w->arg);
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                        const uint8_t *end, const char *prefix, int depth)
{
    /* Element counters for repeated fields, indexed like desc->fields. */
    unsigned counts[256];

    if (depth > PBCHECK_MAX_DEPTH)
        return fail(w, prefix, "message nested too deeply");
    memset(counts, 0, sizeof(counts));
    while (p < end) {
        uint64_t key, len = 0;
        const ProtobufCFieldDescriptor *f;
        unsigned wt;
        char sub[256];

        if (read_varint(&p, end, &key) < 0)
            return fail(w, prefix, "malformed field key");
        wt = (unsigned)(key & 7);
        if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
            return fail(w, prefix, "invalid field number");
        f = protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
        switch (wt) {
        case 0:
            if (read_varint(&p, end, &len) < 0)
                return fail(w, prefix, "malformed varint");
            continue;
        case 1:
            if (end - p < 8)
                return fail(w, prefix, "truncated fixed64");
            p += 8;
            continue;
        case 5:
            if (end - p < 4)
                return fail(w, prefix, "truncated fixed32");
            p += 4;
            continue;
        case 2:
            break;
        default:
            return fail(w, prefix, "unsupported wire type");
        }
        if (read_varint(&p, end, &len) < 0 || len > (uint64_t)(end - p))
            return fail(w, prefix, "truncated length-delimited field");
        if (f != NULL) {
            size_t idx = (size_t)(f - desc->fields);
            const char *sep = *prefix ? "." : "";

            if (f->label == PROTOBUF_C_LABEL_REPEATED && idx < 256)
                snprintf(sub, sizeof(sub), "%s%s%s[%u]", prefix, sep, f->name, counts[idx]++);
            else
                snprintf(sub, sizeof(sub), "%s%s%s", prefix, sep, f->name);
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                if (memchr(p, 0, (size_t)len) != NULL)
                    bad_string(w, sub, "contains a NUL character");
                else if (pbcheck_utf8(p, (size_t)len) < 0)
                    bad_string(w, sub, "not valid UTF-8");
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (walk_message(w, f->descriptor, p, p + len, sub, depth + 1) < 0)
                    return -1;
            }
        }
        p += len;
    }
    return 0;
}

int pbcheck_visit(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                  pbcheck_fn fn, void *arg)
{
    struct walk w = {fn, arg, 0};

    if (len == 0)
        return 0;
    return walk_message(&w, desc, data, data + len, "", 0);
}

struct first_error {
    char *path;
    size_t pathlen;
    char *why;
    size_t whylen;
    int seen;
};

static void keep_first(const char *path, const char *why, void *arg)
{
    struct first_error *f = arg;

    if (f->seen++)
        return;
    snprintf(f->path, f->pathlen, "%s", path);
    snprintf(f->why, f->whylen, "%s", why);
}

int pbcheck_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                    char *path, size_t pathlen, char *why, size_t whylen)
{
    struct first_error f = {path, pathlen, why, whylen, 0};

    if (pbcheck_visit(desc, data, len, keep_first, &f) < 0 || f.seen)
        return -1;
    return 0;
}
