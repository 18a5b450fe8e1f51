#include "decode.h"

#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "pbcheck.h"

/*
 * Decoded messages may take this many times their encoded size in memory;
 * past that the frame is refused (a frame of empty sub-messages expands
 * about 30-fold in protobuf-c).
 */
#define DECODE_BUDGET_FACTOR 16
#define DECODE_BUDGET_MIN    (256u * 1024)

static void set(struct decode_result *res, enum decode_verdict v, Ritra__StatusCode code,
                const char *message)
{
    res->verdict = v;
    res->code = code;
    snprintf(res->message, sizeof(res->message), "%s", message);
}

static void collect(const char *path, const char *why, void *arg)
{
    fe_add(arg, path, "%s", why);
}

/* True when every bad string lies inside one item of a SubmitCases batch. */
static bool all_inside_items(const struct field_errors *strings)
{
    static const char prefix[] = "submit_cases.items[";

    if (strings->dropped > 0)
        return false;
    for (size_t i = 0; i < strings->count; i++)
        if (strncmp(strings->items[i].path, prefix, sizeof(prefix) - 1) != 0)
            return false;
    return true;
}

static bool has_path(const struct field_errors *fe, const char *path)
{
    for (size_t i = 0; i < fe->count; i++)
        if (strcmp(fe->items[i].path, path) == 0)
            return true;
    return false;
}

void request_decode(const uint8_t *payload, size_t len, struct pb_budget *budget,
                    Ritra__Request **out, struct decode_result *res)
{
    size_t limit = len > SIZE_MAX / DECODE_BUDGET_FACTOR ? SIZE_MAX : len * DECODE_BUDGET_FACTOR;
    struct field_errors strings;
    Ritra__Request *m;

    fe_init(&res->fe);
    fe_init(&res->item_strings);
    pb_budget_init(budget, limit < DECODE_BUDGET_MIN ? DECODE_BUDGET_MIN : limit);
    *out = m = ritra__request__unpack(&budget->allocator, len, payload);
    if (m == NULL) {
        set(res, DECODE_FATAL, RITRA__STATUS_CODE__INVALID_ARGUMENT,
            budget->exhausted ? "frame expands beyond the decoding budget"
                              : "frame is not a valid protobuf Request message");
        return;
    }
    if (m->id == 0) {
        /* A reply with id 0 means "connection-level error, closing". */
        set(res, DECODE_FATAL, RITRA__STATUS_CODE__INVALID_ARGUMENT,
            "request id must be non-zero (0 is reserved for connection-level errors)");
        return;
    }
    fe_init(&strings);
    /* unpack succeeded, so the encoding is well-formed: only strings can be bad. */
    pbcheck_visit(&ritra__request__descriptor, payload, len, collect, &strings);
    if (m->op_case == RITRA__REQUEST__OP_SUBMIT_CASES && all_inside_items(&strings))
        res->item_strings = strings;
    else
        res->fe = strings;
    /* A bad string in actor is reported once, by the wire-level check. */
    if (!has_path(&res->fe, "actor"))
        validate_text(&res->fe, "actor", m->actor, REQUEST_ACTOR_MAX, true, false);
    if (res->fe.count > 0) {
        set(res, DECODE_REFUSED, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request");
        return;
    }
    if (m->protocol_version != PROTOCOL_VERSION) {
        fe_add(&res->fe, "protocol_version", "this server speaks version %d", PROTOCOL_VERSION);
        set(res, DECODE_REFUSED, RITRA__STATUS_CODE__UNIMPLEMENTED, "unsupported protocol version");
        return;
    }
    if (m->op_case == RITRA__REQUEST__OP__NOT_SET) {
        if (m->base.n_unknown_fields > 0) {
            set(res, DECODE_REFUSED, RITRA__STATUS_CODE__UNIMPLEMENTED,
                "operation not known to this server version");
        } else {
            fe_add(&res->fe, "op", "no operation set");
            set(res, DECODE_REFUSED, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request");
        }
        return;
    }
    set(res, DECODE_OK, RITRA__STATUS_CODE__OK, "");
}
