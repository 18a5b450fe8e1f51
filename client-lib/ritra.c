/*
 * libritra's protocol layer: request ids and defaults, pipelining,
 * matching responses to requests, and failing a connection for good once
 * it can no longer be trusted to be in sync. The bytes travel through
 * transport.c; the case operations' typed calls are in ritra_case.c.
 */
#include "ritra.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "rerror.h"
#include "transport.h"

/* One TLS record's worth: big enough to amortise syscalls, small enough to
 * keep reading responses while a large batch is being written. */
#define IO_CHUNK 16384

struct ritra_conn {
    struct transport *tr;
    struct frame_reader *reader;
    char *actor; /* default Request.actor, never NULL */
    uint64_t last_id;
    int io_timeout_ms;
    uint32_t max_frame_len;
    unsigned max_in_flight;
    int failed;                 /* framing or TLS state lost: unusable */
    struct ritra_error failure; /* repeated to every call after failed */
};

/* One call in progress: the requests, where their responses go, and the
 * bytes packed but not yet written. */
struct exchange {
    const Ritra__Request *const *reqs;
    size_t n;
    Ritra__Response **resps;
    uint64_t *ids;         /* id sent for reqs[i] */
    struct id_slot *slots; /* ids sorted, for matching responses */
    size_t packed;         /* requests moved into out */
    size_t received;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
};

struct id_slot {
    uint64_t id;
    size_t index;
};

/* ---- errors ---- */

int ritra_error_from_status(const Ritra__Status *status, struct ritra_error *err)
{
    size_t used = 0;

    if (status == NULL || status->code == RITRA__STATUS_CODE__STATUS_UNSPECIFIED) {
        rerror_set(err, RITRA_E_PROTOCOL, "response carries no status");
        return RITRA_E_PROTOCOL;
    }
    err->code = status->code;
    rerror_copy_text(err->message, sizeof(err->message), status->message, 1);
    err->details[0] = '\0';
    for (size_t i = 0; i < status->n_details; i++) {
        const Ritra__FieldError *fe = status->details[i];
        size_t room = sizeof(err->details) - used;
        char path[256], reason[512];
        int w;

        if (fe == NULL)
            continue;
        rerror_copy_text(path, sizeof(path), fe->path, 1);
        rerror_copy_text(reason, sizeof(reason), fe->reason, 1);
        w = snprintf(err->details + used, room, "%s%s: %s", used ? "\n" : "", path, reason);
        if (w < 0 || (size_t)w >= room) {
            /* Whole lines only: a cut one would mislead more than help. */
            err->details[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    return status->code;
}

/* The connection can no longer be trusted to be in sync with the server:
 * remember why, so later calls fail fast with the same reason. */
static void conn_fail(struct ritra_conn *c, const struct ritra_error *err)
{
    if (!c->failed) {
        c->failed = 1;
        c->failure = *err;
    }
}

struct ritra_conn *ritra_connect(const struct ritra_opts *o, struct ritra_error *err)
{
    struct ritra_error scratch;
    struct ritra_conn *c = NULL;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (o == NULL || o->addr == NULL || o->ca_file == NULL) {
        rerror_set(err, RITRA_E_USAGE, "server address and CA file are required");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    c->actor = strdup(o->actor ? o->actor : "");
    if (c->actor == NULL)
        goto nomem;
    c->io_timeout_ms = o->io_timeout_ms > 0 ? o->io_timeout_ms : RITRA_DEFAULT_IO_TIMEOUT;
    c->max_frame_len =
        o->max_frame_len && o->max_frame_len <= FRAME_MAX_LEN ? o->max_frame_len : FRAME_MAX_LEN;
    c->max_in_flight = o->max_in_flight;
    c->reader = frame_reader_new(c->max_frame_len);
    c->tr = transport_open(o, err);
    if (c->tr == NULL)
        goto fail;
    return c;
nomem:
    rerror_set(err, RITRA_E_NOMEM, "out of memory");
fail:
    ritra_close(c);
    return NULL;
}

void ritra_close(struct ritra_conn *c)
{
    if (c == NULL)
        return;
    transport_free(c->tr, !c->failed);
    frame_reader_free(c->reader);
    free(c->actor);
    free(c);
}

/* ---- requests and responses ---- */

/* The packed copy of a request, with the defaults the library fills in. */
static Ritra__Request effective_request(const struct ritra_conn *c, const Ritra__Request *req,
                                        uint64_t id)
{
    Ritra__Request r = *req;

    r.id = id;
    if (r.actor == NULL || r.actor[0] == '\0')
        r.actor = c->actor;
    if (r.protocol_version == 0)
        r.protocol_version = RITRA_PROTOCOL_VERSION;
    return r;
}

static int cmp_slot(const void *a, const void *b)
{
    const struct id_slot *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Checks every request before a byte is sent, so that a usage error
 * leaves the connection usable. */
static int exchange_prepare(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    x->ids = calloc(x->n, sizeof(*x->ids));
    x->slots = calloc(x->n, sizeof(*x->slots));
    if (x->ids == NULL || x->slots == NULL) {
        rerror_set(err, RITRA_E_NOMEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < x->n; i++) {
        Ritra__Request r;
        size_t size;

        if (x->reqs[i] == NULL) {
            rerror_set(err, RITRA_E_USAGE, "request %zu is NULL", i);
            return -1;
        }
        x->ids[i] = x->reqs[i]->id ? x->reqs[i]->id : ++c->last_id;
        r = effective_request(c, x->reqs[i], x->ids[i]);
        size = ritra__request__get_packed_size(&r);
        if (size > c->max_frame_len) {
            rerror_set(err, RITRA_E_USAGE, "request %zu is %zu bytes, over the %u-byte frame limit",
                       i, size, c->max_frame_len);
            return -1;
        }
        x->slots[i].id = x->ids[i];
        x->slots[i].index = i;
    }
    qsort(x->slots, x->n, sizeof(*x->slots), cmp_slot);
    for (size_t i = 1; i < x->n; i++) {
        if (x->slots[i].id == x->slots[i - 1].id) {
            rerror_set(err, RITRA_E_USAGE, "request id %llu is used twice",
                       (unsigned long long)x->slots[i].id);
            return -1;
        }
    }
    return 0;
}

/* Moves requests into the output buffer while it is short of a chunk and
 * the in-flight window allows. */
static int exchange_fill(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    while (x->packed < x->n && x->out_len - x->out_off < IO_CHUNK &&
           (c->max_in_flight == 0 || x->packed - x->received < c->max_in_flight)) {
        Ritra__Request r = effective_request(c, x->reqs[x->packed], x->ids[x->packed]);
        uint8_t *frame;
        size_t len;

        if (frame_pack(&r.base, c->max_frame_len, &frame, &len) < 0) {
            rerror_set(err, RITRA_E_NOMEM, "cannot pack request %zu", x->packed);
            return -1;
        }
        if (x->out_off > 0) {
            memmove(x->out, x->out + x->out_off, x->out_len - x->out_off);
            x->out_len -= x->out_off;
            x->out_off = 0;
        }
        if (x->out_cap - x->out_len < len) {
            size_t cap = x->out_len + len + IO_CHUNK;
            uint8_t *nb = realloc(x->out, cap);

            if (nb == NULL) {
                free(frame);
                rerror_set(err, RITRA_E_NOMEM, "out of memory");
                return -1;
            }
            x->out = nb;
            x->out_cap = cap;
        }
        memcpy(x->out + x->out_len, frame, len);
        x->out_len += len;
        free(frame);
        x->packed++;
    }
    return 0;
}

static int exchange_accept(struct exchange *x, Ritra__Response *resp, struct ritra_error *err)
{
    struct id_slot key = {.id = resp->id}, *slot;

    if (resp->id == 0) {
        /* A connection-level error; the server closes after sending it. */
        if (ritra_error_from_status(resp->status, err) == RITRA__STATUS_CODE__OK)
            rerror_set(err, RITRA_E_PROTOCOL, "connection-level response (id 0) with status OK");
        return -1;
    }
    slot = bsearch(&key, x->slots, x->n, sizeof(*x->slots), cmp_slot);
    if (slot == NULL || x->resps[slot->index] != NULL) {
        rerror_set(err, RITRA_E_PROTOCOL, "unexpected response id %llu",
                   (unsigned long long)resp->id);
        return -1;
    }
    if (resp->status == NULL || resp->status->code == RITRA__STATUS_CODE__STATUS_UNSPECIFIED) {
        rerror_set(err, RITRA_E_PROTOCOL, "response %llu carries no status",
                   (unsigned long long)resp->id);
        return -1;
    }
    x->resps[slot->index] = resp;
    x->received++;
    return 0;
}

static int exchange_take_frames(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    for (;;) {
        const uint8_t *payload;
        uint32_t len = 0;
        Ritra__Response *resp;
        enum frame_status st = frame_reader_next(c->reader, &payload, &len);

        if (st == FRAME_NEED_MORE)
            return 0;
        if (st == FRAME_TOO_LARGE) {
            rerror_set(err, RITRA_E_PROTOCOL, "%s announced a frame over the %u-byte limit",
                       transport_addr(c->tr), c->max_frame_len);
            return -1;
        }
        resp = ritra__response__unpack(NULL, len, payload);
        if (resp == NULL) {
            rerror_set(err, RITRA_E_PROTOCOL, "%s sent a malformed Response (%u bytes)",
                       transport_addr(c->tr), len);
            return -1;
        }
        if (exchange_accept(x, resp, err) < 0) {
            ritra__response__free_unpacked(resp, NULL);
            return -1;
        }
    }
}

/* Reads until the socket would block; *want is what the transport needs
 * to go on. */
static int exchange_read(struct ritra_conn *c, struct exchange *x, short *want,
                         struct ritra_error *err)
{
    uint8_t buf[IO_CHUNK];

    for (;;) {
        ssize_t n = transport_read(c->tr, buf, sizeof(buf), want, err);

        if (n > 0) {
            if (frame_reader_feed(c->reader, buf, (size_t)n) < 0) {
                rerror_set(err, RITRA_E_NOMEM, "out of memory");
                return -1;
            }
            if (exchange_take_frames(c, x, err) < 0)
                return -1;
            continue;
        }
        if (n == 0)
            return 0;
        if (x->received == x->n) {
            /* The server closed right after answering (e.g. draining):
             * this call succeeded, the next one will report the close. */
            conn_fail(c, err);
            rerror_clear(err);
            *want = 0;
            return 0;
        }
        return -1;
    }
}

/* Writes until the socket would block (*want set) or nothing is left to
 * send for now (*want 0). */
static int exchange_write(struct ritra_conn *c, struct exchange *x, short *want,
                          struct ritra_error *err)
{
    *want = 0;
    for (;;) {
        size_t chunk;
        ssize_t n;

        if (exchange_fill(c, x, err) < 0)
            return -1;
        if (x->out_off == x->out_len)
            return 0;
        chunk = x->out_len - x->out_off;
        if (chunk > IO_CHUNK)
            chunk = IO_CHUNK;
        n = transport_write(c->tr, x->out + x->out_off, chunk, want, err);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        x->out_off += (size_t)n;
        if (x->out_off == x->out_len)
            x->out_off = x->out_len = 0;
    }
}

static int exchange_run(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    for (;;) {
        short rwant = 0, wwant = 0;
        int rc;

        if (exchange_read(c, x, &rwant, err) < 0)
            return -1;
        if (x->received == x->n)
            return 0;
        if (exchange_write(c, x, &wwant, err) < 0) {
            struct ritra_error why;

            /* A server that refuses us sends an alert or an id-0 Response
             * and closes; our write then fails with EPIPE/ECONNRESET, but
             * the reason is still waiting in the receive queue. */
            rerror_clear(&why);
            if (exchange_read(c, x, &rwant, &why) < 0 && why.code != RITRA_E_CLOSED)
                *err = why;
            return -1;
        }
        rc = transport_wait(c->tr, rwant | wwant, c->io_timeout_ms);
        if (rc == 0) {
            rerror_set(err, RITRA_E_TIMEOUT, "%s: no progress within %d ms (%zu of %zu answered)",
                       transport_addr(c->tr), c->io_timeout_ms, x->received, x->n);
            return -1;
        }
        if (rc < 0) {
            rerror_set(err, RITRA_E_CLOSED, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static int call_many(struct ritra_conn *c, const Ritra__Request *const *reqs, size_t n,
                     Ritra__Response **resps, struct ritra_error *err)
{
    struct exchange x = {.reqs = reqs, .n = n, .resps = resps};
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        resps[i] = NULL;
    if (n == 0)
        return 0;
    if (c->failed) {
        *err = c->failure;
        return -1;
    }
    if (exchange_prepare(c, &x, err) < 0)
        goto done;
    rc = exchange_run(c, &x, err);
    if (rc < 0)
        conn_fail(c, err);
done:
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            ritra__response__free_unpacked(resps[i], NULL);
            resps[i] = NULL;
        }
    }
    free(x.ids);
    free(x.slots);
    free(x.out);
    return rc;
}

int ritra_call(struct ritra_conn *c, const Ritra__Request *req, Ritra__Response **resp,
               struct ritra_error *err)
{
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (c == NULL || req == NULL || resp == NULL) {
        if (resp != NULL)
            *resp = NULL;
        rerror_set(err, RITRA_E_USAGE, "ritra_call: NULL argument");
        return -1;
    }
    return call_many(c, &req, 1, resp, err);
}

int ritra_call_batch(struct ritra_conn *c, Ritra__Request *const *reqs, size_t n,
                     Ritra__Response **resps, struct ritra_error *err)
{
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (c == NULL || (n > 0 && (reqs == NULL || resps == NULL))) {
        rerror_set(err, RITRA_E_USAGE, "ritra_call_batch: NULL argument");
        return -1;
    }
    return call_many(c, (const Ritra__Request *const *)reqs, n, resps, err);
}

/* ---- typed calls ---- */

static void copy_agency(struct ritra_agency *dst, const Ritra__Agency *src)
{
    if (src == NULL)
        return;
    rerror_copy_text(dst->code, sizeof(dst->code), src->code, 0);
    rerror_copy_text(dst->name, sizeof(dst->name), src->name, 0);
    dst->kind = src->kind;
    rerror_copy_text(dst->fingerprint, sizeof(dst->fingerprint), src->cert_fingerprint, 0);
}

int ritra_ping(struct ritra_conn *c, struct ritra_ping_result *out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Response *resp = NULL;
    struct ritra_error scratch;
    int rc = -1;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (out == NULL) {
        rerror_set(err, RITRA_E_USAGE, "ritra_ping: NULL argument");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    if (ritra_call(c, &req, &resp, err) < 0)
        return -1;
    if (resp->status->code != RITRA__STATUS_CODE__OK) {
        ritra_error_from_status(resp->status, err);
        goto done;
    }
    if (resp->result_case != RITRA__RESPONSE__RESULT_PING || resp->ping == NULL) {
        rerror_set(err, RITRA_E_PROTOCOL, "OK answer to ping carries no PingResult");
        goto done;
    }
    rerror_copy_text(out->server_version, sizeof(out->server_version), resp->ping->server_version,
                     0);
    out->protocol_version = resp->ping->protocol_version;
    copy_agency(&out->agency, resp->ping->agency);
    out->server_time_ms = resp->ping->server_time_ms;
    rc = 0;
done:
    ritra__response__free_unpacked(resp, NULL);
    return rc;
}

/* ---- names ---- */

const char *ritra_status_name(int code)
{
    static const char *const server[] = {
        "STATUS_UNSPECIFIED", "OK",          "INVALID_ARGUMENT", "UNAUTHENTICATED",
        "PERMISSION_DENIED",  "NOT_FOUND",   "ALREADY_EXISTS",   "FAILED_PRECONDITION",
        "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL",         "UNIMPLEMENTED",
        "DEADLINE_EXCEEDED",  "ABORTED",
    };
    static const char *const local[] = {
        "CONNECT", "TLS", "TIMEOUT", "PROTOCOL", "CLOSED", "USAGE", "NOMEM",
    };

    if (code >= 0 && (size_t)code < sizeof(server) / sizeof(server[0]))
        return server[code];
    if (code >= RITRA_E_CONNECT &&
        (size_t)(code - RITRA_E_CONNECT) < sizeof(local) / sizeof(local[0]))
        return local[code - RITRA_E_CONNECT];
    return "UNKNOWN";
}

int ritra_status_retryable(int code)
{
    switch (code) {
    case RITRA__STATUS_CODE__RESOURCE_EXHAUSTED:
    case RITRA__STATUS_CODE__UNAVAILABLE:
    case RITRA__STATUS_CODE__DEADLINE_EXCEEDED:
    case RITRA__STATUS_CODE__ABORTED:
    case RITRA_E_CONNECT:
    case RITRA_E_TLS:
    case RITRA_E_TIMEOUT:
    case RITRA_E_CLOSED:
        return 1;
    default:
        return 0;
    }
}

const char *ritra_agency_kind_name(int kind)
{
    static const char *const names[] = {
        "unspecified",     "prosecutor", "police",      "migration",
        "victim_services", "auditor",    "coordinator",
    };

    if (kind >= 0 && (size_t)kind < sizeof(names) / sizeof(names[0]))
        return names[kind];
    return "unknown";
}
