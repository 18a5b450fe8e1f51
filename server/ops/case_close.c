/*
 * CloseCase: a state change, never a deletion. It is a read-modify-write
 * of the stored record through the same path as a submission, so the
 * closed state is versioned, hashed, projected and synced like any other
 * change. Without an expected_version a lost race is retried a few times.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../case_store.h"
#include "../case_validate.h"
#include "../log.h"
#include "../picklist.h"
#include "../policy.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define CLOSE_MAX_ATTEMPTS 3

struct close_ctx {
    struct request *r;
    int attempts;
};

static void read_for_close(const struct case_row *rows, int n, enum db_outcome db,
                           const char *error, const char *next, void *arg);

static void start(struct close_ctx *ctx)
{
    struct request *r = ctx->r;

    ctx->attempts++;
    case_store_get(server_db(request_server(r)), request_agency(r),
                   request_msg(r)->close_case->case_id, NULL, read_for_close, ctx);
}

static void closed(const struct case_written *w, void *arg)
{
    struct close_ctx *ctx = arg;
    struct request *r = ctx->r;
    const Ritra__CloseCaseRequest *m = request_msg(r)->close_case;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__CloseCaseResult res = RITRA__CLOSE_CASE_RESULT__INIT;
    struct field_errors fe;
    char msg[160];

    if (w->outcome != CASE_FAILED && !(w->outcome == CASE_CONFLICT && m->expected_version == 0 &&
                                       ctx->attempts < CLOSE_MAX_ATTEMPTS)) {
        request_audit(r)->written = true;
        audit_note_case(request_audit(r), w->case_id);
    }
    if (w->outcome == CASE_CONFLICT && m->expected_version == 0 &&
        ctx->attempts < CLOSE_MAX_ATTEMPTS) {
        start(ctx); /* someone updated it between our read and write */
        return;
    }
    switch (w->outcome) {
    case CASE_CREATED:
    case CASE_UPDATED:
    case CASE_UNCHANGED:
        res.case_id = (char *)w->case_id;
        res.version = w->version;
        resp.result_case = RITRA__RESPONSE__RESULT_CLOSE_CASE;
        resp.close_case = &res;
        request_reply(r, &resp);
        break;
    case CASE_CONFLICT:
        fe_init(&fe);
        fe_add(&fe, "close_case.expected_version", "current version is %" PRId64, w->version);
        snprintf(msg, sizeof(msg), "the current version is %" PRId64, w->version);
        request_fail(r, RITRA__STATUS_CODE__FAILED_PRECONDITION, msg, &fe);
        break;
    case CASE_FAILED:
        ops_fail_db(r, w->db == DB_OK ? DB_SQL_ERROR : w->db, w->error);
        break;
    }
    free(ctx);
}

static void read_for_close(const struct case_row *rows, int n, enum db_outcome db,
                           const char *error, const char *next, void *arg)
{
    struct close_ctx *ctx = arg;
    struct request *r = ctx->r;
    const Ritra__CloseCaseRequest *m = request_msg(r)->close_case;
    Ritra__Case *stored, view;
    struct audit_who who;
    struct field_errors fe;
    int64_t expected;

    (void)next;
    if (db != DB_OK || n == 0) {
        if (db != DB_OK)
            ops_fail_db(r, db, error);
        else
            request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, "no such case", NULL);
        free(ctx);
        return;
    }
    if (rows[0].owner_agency_id != request_agency(r)->id) {
        /* Seeing a case is not owning it; say so only to those who see it. */
        request_fail(r,
                     rows[0].db_level >= POLICY_HIT ? RITRA__STATUS_CODE__PERMISSION_DENIED
                                                    : RITRA__STATUS_CODE__NOT_FOUND,
                     rows[0].db_level >= POLICY_HIT ? "only the owner may close a case"
                                                    : "no such case",
                     NULL);
        free(ctx);
        return;
    }
    if (m->expected_version != 0 && m->expected_version != rows[0].version) {
        fe_init(&fe);
        fe_add(&fe, "close_case.expected_version", "current version is %" PRId64, rows[0].version);
        request_fail(r, RITRA__STATUS_CODE__FAILED_PRECONDITION, "version mismatch", &fe);
        free(ctx);
        return;
    }
    stored = case_store_unpack(&rows[0]);
    if (stored == NULL) {
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "stored case cannot be read", NULL);
        free(ctx);
        return;
    }
    view = *stored;
    view.cas_status = m->cas_status;
    view.cas_reasonforcaseclosure = m->cas_reasonforcaseclosure;
    expected = rows[0].version;
    /* The stored record was valid when accepted; the new fields were
     * checked in op_close_case. */
    request_who(r, &who);
    if (case_store_submit(server_db(request_server(r)), &who, "close_case", &view, expected, closed,
                          ctx) < 0) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        free(ctx);
    }
    ritra__case__free_unpacked(stored, NULL);
}

void op_close_case(struct request *r)
{
    const Ritra__CloseCaseRequest *m = request_msg(r)->close_case;
    struct close_ctx *ctx;
    struct field_errors fe;

    fe_init(&fe);
    if (!ops_uuid_valid(m->case_id))
        fe_add(&fe, "close_case.case_id", "not a UUID");
    if (strcmp(m->cas_status, "Closed") != 0 && strcmp(m->cas_status, "ClosedReferred") != 0 &&
        strcmp(m->cas_status, "Withdrawn") != 0)
        fe_add(&fe, "close_case.cas_Status", "must be Closed, ClosedReferred or Withdrawn");
    validate_text(&fe, "close_case.cas_ReasonForCaseClosure", m->cas_reasonforcaseclosure,
                  CASE_MAX_CLOSURE_REASON, false, true);
    if (m->expected_version < 0)
        fe_add(&fe, "close_case.expected_version", "must be 0 (no check) or a version");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        return;
    }
    ctx->r = r;
    start(ctx);
}
