/*
 * From frame payload to a validated Request envelope, with no server, no
 * connection and no I/O: the part of the request path a fuzzer can drive
 * directly. Operations validate their own fields later; this checks what
 * every request shares (encoding, strings, id, actor, version, op).
 */
#ifndef RITRA_DECODE_H
#define RITRA_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "pbbudget.h"
#include "ritra.pb-c.h"
#include "validate.h"

#define REQUEST_ACTOR_MAX 256
#define PROTOCOL_VERSION  1

enum decode_verdict {
    DECODE_OK,      /* *out is a Request whose envelope is valid and op is known */
    DECODE_REFUSED, /* *out is set; answer it with code/message/fe */
    DECODE_FATAL,   /* no usable Request (not protobuf, or id 0): close the connection */
};

struct decode_result {
    enum decode_verdict verdict;
    Ritra__StatusCode code;
    char message[160];
    struct field_errors fe;
    /* Bad strings inside batch items, left for the operation to refuse
     * item by item (SubmitCases): one bad case must not sink the rest. */
    struct field_errors item_strings;
};

/* Decodes payload through budget (initialised here, sized from len).
 * *out, when set, is freed by the caller with
 * ritra__request__free_unpacked(*out, &budget->allocator). */
void request_decode(const uint8_t *payload, size_t len, struct pb_budget *budget,
                    Ritra__Request **out, struct decode_result *res);

#endif
