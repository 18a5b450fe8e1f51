#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "conn.h"
#include "frame.h"
#include "decode.h"
#include "log.h"
#include "ops/ops.h"
#include "pbbudget.h"
#include "server.h"

struct request {
    struct server *srv;
    struct conn *conn;
    Ritra__Request *msg;
    struct pb_budget budget;
    uint64_t id;
    struct field_errors *item_strings; /* SubmitCases only; NULL when none */
    struct audit_note audit;
    uint8_t *reply; /* the packed reply frame, held until its audit entry commits */
    size_t reply_len;
    Ritra__StatusCode code;
    bool close_after; /* end the connection once the reply is out */
};

const Ritra__Request *request_msg(const struct request *r)
{
    return r->msg;
}

const struct agency *request_agency(const struct request *r)
{
    return conn_agency(r->conn);
}

struct server *request_server(const struct request *r)
{
    return r->srv;
}

struct conn *request_conn(const struct request *r)
{
    return r->conn;
}

const struct field_errors *request_item_strings(const struct request *r)
{
    return r->item_strings;
}

const char *request_actor(const struct request *r)
{
    return r->msg->actor;
}

static void request_free(struct request *r)
{
    conn_request_done(r->conn);
    free(r->item_strings);
    free(r->reply);
    audit_note_clear(&r->audit);
    if (r->msg != NULL)
        ritra__request__free_unpacked(r->msg, &r->budget.allocator);
    conn_unref(r->conn);
    free(r);
}

static void fill_status(Ritra__Status *st, Ritra__FieldError *items, Ritra__FieldError **ptrs,
                        Ritra__StatusCode code, const char *message, const struct field_errors *fe)
{
    st->code = code;
    st->message = (char *)(message ? message : "");
    if (fe == NULL)
        return;
    for (size_t i = 0; i < fe->count; i++) {
        ritra__field_error__init(&items[i]);
        items[i].path = (char *)fe->items[i].path;
        items[i].reason = (char *)fe->items[i].reason;
        ptrs[i] = &items[i];
    }
    st->n_details = fe->count;
    st->details = ptrs;
}

/* Room for the details plus one line counting those that did not fit. */
#define DETAILS_MAX (VALIDATE_MAX_ERRORS + 1)

void request_send_status(struct conn *c, uint64_t id, Ritra__StatusCode code, const char *message,
                         const struct field_errors *fe)
{
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__Status st = RITRA__STATUS__INIT;
    Ritra__FieldError items[DETAILS_MAX];
    Ritra__FieldError *ptrs[DETAILS_MAX];
    char more[64];

    fill_status(&st, items, ptrs, code, message, fe);
    if (fe != NULL && fe->dropped > 0) {
        snprintf(more, sizeof(more), "%zu more errors not shown", fe->dropped);
        ritra__field_error__init(&items[fe->count]);
        items[fe->count].path = "";
        items[fe->count].reason = more;
        ptrs[fe->count] = &items[fe->count];
        st.n_details++;
    }
    resp.id = id;
    resp.status = &st;
    conn_send_response(c, &resp);
}

struct audit_note *request_audit(struct request *r)
{
    return &r->audit;
}

void request_close_after(struct request *r)
{
    r->close_after = true;
}

void request_who(const struct request *r, struct audit_who *who)
{
    who->agency = conn_agency(r->conn);
    who->fingerprint = conn_agency(r->conn)->fingerprint;
    who->actor = r->msg ? r->msg->actor : "";
    who->request_id = r->id;
}

/* The audit entry is durable (or was written with the operation): send. */
static void audited(bool ok, void *arg)
{
    struct request *r = arg;

    struct conn *c = r->conn;
    bool close_after = r->close_after;

    if (ok) {
        conn_send_frame(c, r->reply, r->reply_len);
    } else {
        /* No access without its entry: what was read is withheld. */
        request_send_status(c, r->id, RITRA__STATUS_CODE__UNAVAILABLE,
                            "audit trail unavailable; the request was not served", NULL);
    }
    conn_ref(c);
    request_free(r);
    if (close_after)
        conn_close(c, 0, "agency may no longer act");
    conn_unref(c);
}

static void audited_dropped(bool ok, void *arg)
{
    (void)ok;
    request_free(arg);
}

/* Holds the packed reply, records the request, then sends. */
static void finish(struct request *r, const Ritra__Response *resp)
{
    struct audit_who who;

    if (frame_pack(&resp->base, FRAME_MAX_LEN, &r->reply, &r->reply_len) < 0) {
        log_msg(LOG_ERROR, "reply_encode_failed", "reply too large or encoder error");
        r->code = RITRA__STATUS_CODE__INTERNAL;
        r->reply = NULL;
    }
    if (r->audit.written && r->reply != NULL) {
        audited(true, r);
        return;
    }
    request_who(r, &who);
    if (r->reply == NULL) {
        /* Record the failure; the client gets INTERNAL either way. */
        request_send_status(r->conn, r->id, RITRA__STATUS_CODE__INTERNAL,
                            "reply could not be encoded", NULL);
        audit_write(server_db(r->srv), &r->audit, &who, request_status_name(r->code),
                    audited_dropped, r);
        return;
    }
    audit_write(server_db(r->srv), &r->audit, &who, request_status_name(r->code), audited, r);
}

void request_reply(struct request *r, Ritra__Response *resp)
{
    Ritra__Status st = RITRA__STATUS__INIT;

    st.code = RITRA__STATUS_CODE__OK;
    resp->id = r->id;
    resp->status = &st;
    r->code = RITRA__STATUS_CODE__OK;
    finish(r, resp);
    resp->status = NULL;
}

const char *request_status_name(Ritra__StatusCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&ritra__status_code__descriptor, (int)code);

    return v ? v->name : "UNKNOWN";
}

void request_fail(struct request *r, Ritra__StatusCode code, const char *message,
                  const struct field_errors *fe)
{
    struct logline l;

    log_begin(&l, code == RITRA__STATUS_CODE__INTERNAL ? LOG_ERROR : LOG_DEBUG, "request_failed");
    log_u64(&l, "conn", conn_id(r->conn));
    log_u64(&l, "id", r->id);
    log_str(&l, "code", request_status_name(code));
    log_str(&l, "msg", message);
    log_end(&l);
    r->code = code;
    {
        Ritra__Response resp = RITRA__RESPONSE__INIT;
        Ritra__Status st = RITRA__STATUS__INIT;
        Ritra__FieldError items[DETAILS_MAX];
        Ritra__FieldError *ptrs[DETAILS_MAX];

        fill_status(&st, items, ptrs, code, message, fe);
        resp.id = r->id;
        resp.status = &st;
        finish(r, &resp);
    }
}

/* The oneof member's name ("submit_case"), or "invalid" when there is none. */
static const char *operation_name(const Ritra__Request *m)
{
    const ProtobufCFieldDescriptor *f;

    if (m == NULL || m->op_case == RITRA__REQUEST__OP__NOT_SET)
        return "invalid";
    f = protobuf_c_message_descriptor_get_field(&ritra__request__descriptor, (unsigned)m->op_case);
    return f ? f->name : "unknown";
}

int request_dispatch(struct server *srv, struct conn *c, const uint8_t *payload, size_t len)
{
    struct request *r = calloc(1, sizeof(*r));
    struct decode_result res;

    if (r == NULL) {
        conn_close(c, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory");
        return -1;
    }
    r->srv = srv;
    r->conn = c;
    conn_ref(c);
    request_decode(payload, len, &r->budget, &r->msg, &res);
    if (r->msg != NULL)
        r->id = r->msg->id;
    audit_note_init(&r->audit, operation_name(r->msg));
    if (res.verdict == DECODE_FATAL) {
        request_free(r);
        conn_close(c, res.code, res.message);
        return -1;
    }
    if (res.verdict == DECODE_REFUSED) {
        request_fail(r, res.code, res.message, &res.fe);
        return 0;
    }
    if (res.item_strings.count > 0) {
        r->item_strings = malloc(sizeof(*r->item_strings));
        if (r->item_strings == NULL) {
            request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
            return 0;
        }
        *r->item_strings = res.item_strings;
    }
    if (server_draining(srv)) {
        request_fail(r, RITRA__STATUS_CODE__UNAVAILABLE, "server is shutting down", NULL);
        return 0;
    }
    switch (r->msg->op_case) {
    case RITRA__REQUEST__OP_PING:
        op_ping(r);
        return 0;
    case RITRA__REQUEST__OP_SUBMIT_CASE:
        op_submit_case(r);
        return 0;
    case RITRA__REQUEST__OP_SUBMIT_CASES:
        op_submit_cases(r);
        return 0;
    case RITRA__REQUEST__OP_GET_CASE:
        op_get_case(r);
        return 0;
    case RITRA__REQUEST__OP_LIST_CASES:
        op_list_cases(r);
        return 0;
    case RITRA__REQUEST__OP_CLOSE_CASE:
        op_close_case(r);
        return 0;
    case RITRA__REQUEST__OP_SYNC_PULL:
        op_sync_pull(r);
        return 0;
    case RITRA__REQUEST__OP_SHARE_CASE:
        op_share_case(r);
        return 0;
    case RITRA__REQUEST__OP_RESPOND_TO_SHARE:
        op_respond_to_share(r);
        return 0;
    case RITRA__REQUEST__OP_REVOKE_SHARE:
        op_revoke_share(r);
        return 0;
    case RITRA__REQUEST__OP_LIST_SHARES:
        op_list_shares(r);
        return 0;
    case RITRA__REQUEST__OP_AUDIT_PULL:
        op_audit_pull(r);
        return 0;
    case RITRA__REQUEST__OP_SEARCH_PERSONS:
        op_search_persons(r);
        return 0;
    case RITRA__REQUEST__OP_SEARCH_CASES:
        op_search_cases(r);
        return 0;
    case RITRA__REQUEST__OP_LIST_MATCHES:
        op_list_matches(r);
        return 0;
    case RITRA__REQUEST__OP_DECIDE_MATCH:
        op_decide_match(r);
        return 0;
    case RITRA__REQUEST__OP_MERGE_IDENTITIES:
        op_merge_identities(r);
        return 0;
    case RITRA__REQUEST__OP_UNMERGE_PERSON:
        op_unmerge_person(r);
        return 0;
    case RITRA__REQUEST__OP_CASE_MATCHES:
        op_case_matches(r);
        return 0;
    default:
        /* decode.c knows every op this switch knows; reaching here is a bug. */
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "operation has no handler", NULL);
        return 0;
    }
}
