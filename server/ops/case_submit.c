/*
 * SubmitCase and SubmitCases: validate, then one transaction per case
 * (ritra_submit_case). A batch answers once every item has its own
 * outcome; an invalid item or a failed transaction affects that item only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../audit.h"
#include "../case_store.h"
#include "../case_validate.h"
#include "../log.h"
#include "../matcher.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define SUBMIT_MAX_ITEMS 1000

/* The status for a write the database did not do (batch items). */
static Ritra__StatusCode failure_code(const struct case_written *w)
{
    switch (w->db) {
    case DB_UNAVAILABLE:
        return RITRA__STATUS_CODE__UNAVAILABLE;
    case DB_TIMEOUT:
        return RITRA__STATUS_CODE__DEADLINE_EXCEEDED;
    case DB_RETRY:
        return RITRA__STATUS_CODE__ABORTED;
    case DB_UNAUTHORIZED:
        return RITRA__STATUS_CODE__UNAUTHENTICATED;
    case DB_DENIED:
        return RITRA__STATUS_CODE__PERMISSION_DENIED;
    default:
        return RITRA__STATUS_CODE__INTERNAL;
    }
}

static const char *failure_message(const struct case_written *w)
{
    switch (w->db) {
    case DB_UNAVAILABLE:
        return "database unavailable; the case may or may not have been stored, resubmit it";
    case DB_TIMEOUT:
        return "database did not answer in time; resubmit the case";
    case DB_RETRY:
        return "concurrent change; nothing was written, resubmit the case";
    case DB_UNAUTHORIZED:
        return "agency disabled or certificate registration withdrawn";
    case DB_DENIED:
        return "not allowed";
    default:
        return "the case could not be stored";
    }
}

static void fill_result(Ritra__SubmitCaseResult *res, const struct case_written *w)
{
    res->case_id = (char *)w->case_id;
    res->version = w->version;
    res->created = w->outcome == CASE_CREATED;
    res->changed = w->outcome == CASE_CREATED || w->outcome == CASE_UPDATED;
}

static void submitted_one(const struct case_written *w, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__SubmitCaseResult res = RITRA__SUBMIT_CASE_RESULT__INIT;
    struct field_errors fe;
    char msg[160];

    if (w->outcome != CASE_FAILED) {
        /* Committed together with its audit entry. */
        request_audit(r)->written = true;
        if (w->case_id[0])
            audit_note_case(request_audit(r), w->case_id);
    }
    if (w->outcome == CASE_CREATED || w->outcome == CASE_UPDATED)
        matcher_kick(server_matcher(request_server(r))); /* its persons wait in the queue */
    switch (w->outcome) {
    case CASE_CREATED:
    case CASE_UPDATED:
    case CASE_UNCHANGED:
        fill_result(&res, w);
        resp.result_case = RITRA__RESPONSE__RESULT_SUBMIT_CASE;
        resp.submit_case = &res;
        request_reply(r, &resp);
        return;
    case CASE_CONFLICT:
        fe_init(&fe);
        fe_add(&fe, "submit_case.expected_version", "current version is %" PRId64, w->version);
        snprintf(msg, sizeof(msg),
                 "expected version %" PRId64 " but the current version is %" PRId64,
                 request_msg(r)->submit_case->expected_version, w->version);
        request_fail(r, RITRA__STATUS_CODE__FAILED_PRECONDITION, msg, &fe);
        return;
    case CASE_FAILED:
        if (w->db == DB_SQL_ERROR)
            log_msg(LOG_ERROR, "case_submit_failed", w->error);
        if (w->db == DB_UNAUTHORIZED || w->db == DB_UNAVAILABLE || w->db == DB_TIMEOUT ||
            w->db == DB_RETRY || w->db == DB_DENIED)
            ops_fail_db(r, w->db, w->error);
        else
            request_fail(r, failure_code(w), failure_message(w), NULL);
        return;
    }
}

void op_submit_case(struct request *r)
{
    const Ritra__SubmitCaseRequest *m = request_msg(r)->submit_case;
    struct audit_who who;
    struct field_errors fe;

    fe_init(&fe);
    if (m->case_ == NULL)
        fe_add(&fe, "submit_case.case", "required");
    else
        case_validate(m->case_, "submit_case.case", &fe, time(NULL));
    if (m->expected_version < 0)
        fe_add(&fe, "submit_case.expected_version", "must be 0 (no check) or a version");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid case", &fe);
        return;
    }
    request_who(r, &who);
    audit_note_detail(request_audit(r), "external_ref", m->case_->external_ref);
    if (case_store_submit(server_db(request_server(r)), &who, "submit_case", m->case_,
                          m->expected_version, submitted_one, r) < 0)
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
}

/* --- SubmitCases ---------------------------------------------------- */

struct batch;

struct batch_item {
    struct batch *batch;
    Ritra__SubmitCasesItem out;
    Ritra__Status status;
    Ritra__SubmitCaseResult result;
    char case_id[CASE_ID_LEN + 1];
    char message[160];
    /* Only items that fail validation carry these (a batch may hold 1000). */
    struct field_errors *fe;
    Ritra__FieldError *details;
    Ritra__FieldError **detail_ptrs;
};

struct batch {
    struct request *r;
    size_t n;
    size_t pending;
    struct batch_item *items;
    Ritra__SubmitCasesItem **ptrs;
};

static void item_status(struct batch_item *it, Ritra__StatusCode code, const char *message)
{
    snprintf(it->message, sizeof(it->message), "%s", message);
    it->status.code = code;
    it->status.message = it->message;
}

/* Keeps a copy of fe as the item's details. Returns 0 or -1 (no memory). */
static int item_details(struct batch_item *it, const struct field_errors *fe)
{
    it->fe = malloc(sizeof(*it->fe));
    it->details = calloc(fe->count, sizeof(*it->details));
    it->detail_ptrs = calloc(fe->count, sizeof(*it->detail_ptrs));
    if (it->fe == NULL || it->details == NULL || it->detail_ptrs == NULL)
        return -1;
    *it->fe = *fe;
    for (size_t i = 0; i < fe->count; i++) {
        ritra__field_error__init(&it->details[i]);
        it->details[i].path = it->fe->items[i].path;
        it->details[i].reason = it->fe->items[i].reason;
        it->detail_ptrs[i] = &it->details[i];
    }
    it->status.n_details = fe->count;
    it->status.details = it->detail_ptrs;
    return 0;
}

static void batch_finish(struct batch *b)
{
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__SubmitCasesResult res = RITRA__SUBMIT_CASES_RESULT__INIT;

    {
        char n[16];
        snprintf(n, sizeof(n), "%zu", b->n);
        audit_note_detail(request_audit(b->r), "items", n);
    }
    res.n_items = b->n;
    res.items = b->ptrs;
    resp.result_case = RITRA__RESPONSE__RESULT_SUBMIT_CASES;
    resp.submit_cases = &res;
    request_reply(b->r, &resp);
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].fe);
        free(b->items[i].details);
        free(b->items[i].detail_ptrs);
    }
    free(b->items);
    free(b->ptrs);
    free(b);
}

static void submitted_item(const struct case_written *w, void *arg)
{
    struct batch_item *it = arg;
    struct batch *b = it->batch;
    char msg[160];

    switch (w->outcome) {
    case CASE_CREATED:
    case CASE_UPDATED:
    case CASE_UNCHANGED:
        if (w->outcome != CASE_UNCHANGED)
            matcher_kick(server_matcher(request_server(b->r)));
        snprintf(it->case_id, sizeof(it->case_id), "%s", w->case_id);
        audit_note_case(request_audit(b->r), w->case_id);
        fill_result(&it->result, w);
        it->result.case_id = it->case_id;
        it->out.result = &it->result;
        item_status(it, RITRA__STATUS_CODE__OK, "");
        break;
    case CASE_CONFLICT:
        snprintf(msg, sizeof(msg), "the current version is %" PRId64, w->version);
        it->out.current_version = w->version;
        item_status(it, RITRA__STATUS_CODE__FAILED_PRECONDITION, msg);
        break;
    case CASE_FAILED:
        if (w->db == DB_SQL_ERROR)
            log_msg(LOG_ERROR, "case_submit_failed", w->error);
        if (w->db == DB_UNAUTHORIZED)
            request_close_after(b->r); /* the agency may no longer act */
        item_status(it, failure_code(w), failure_message(w));
        break;
    }
    if (--b->pending == 0)
        batch_finish(b);
}

/* Moves the decode-time string errors that fall inside item i to it. */
static void take_string_errors(const struct field_errors *strings, size_t i,
                               struct field_errors *fe)
{
    char prefix[48];
    size_t n;

    if (strings == NULL)
        return;
    n = (size_t)snprintf(prefix, sizeof(prefix), "submit_cases.items[%zu]", i);
    for (size_t k = 0; k < strings->count; k++) {
        const char *p = strings->items[k].path;
        if (strncmp(p, prefix, n) == 0 && (p[n] == '.' || p[n] == '\0'))
            fe_add(fe, p, "%s", strings->items[k].reason);
    }
}

void op_submit_cases(struct request *r)
{
    const Ritra__SubmitCasesRequest *m = request_msg(r)->submit_cases;
    struct server *srv = request_server(r);
    struct batch *b;
    struct audit_who who;
    time_t now = time(NULL);
    size_t valid = 0;

    if (m->n_items == 0 || m->n_items > SUBMIT_MAX_ITEMS) {
        struct field_errors fe;
        fe_init(&fe);
        fe_add(&fe, "submit_cases.items", "needs 1 to %d items", SUBMIT_MAX_ITEMS);
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid batch", &fe);
        return;
    }
    b = calloc(1, sizeof(*b));
    if (b != NULL) {
        b->items = calloc(m->n_items, sizeof(*b->items));
        b->ptrs = calloc(m->n_items, sizeof(*b->ptrs));
    }
    if (b == NULL || b->items == NULL || b->ptrs == NULL) {
        if (b != NULL) {
            free(b->items);
            free(b->ptrs);
        }
        free(b);
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        return;
    }
    b->r = r;
    b->n = m->n_items;
    for (size_t i = 0; i < m->n_items; i++) {
        struct batch_item *it = &b->items[i];
        const Ritra__SubmitCaseRequest *item = m->items[i];
        struct field_errors fe;
        char prefix[64];

        it->batch = b;
        ritra__submit_cases_item__init(&it->out);
        ritra__status__init(&it->status);
        ritra__submit_case_result__init(&it->result);
        it->out.status = &it->status;
        b->ptrs[i] = &it->out;
        fe_init(&fe);
        snprintf(prefix, sizeof(prefix), "submit_cases.items[%zu].case", i);
        take_string_errors(request_item_strings(r), i, &fe);
        if (item->case_ == NULL)
            fe_add(&fe, prefix, "required");
        else if (fe.count == 0)
            case_validate(item->case_, prefix, &fe, now);
        if (item->expected_version < 0) {
            char path[64];
            snprintf(path, sizeof(path), "submit_cases.items[%zu].expected_version", i);
            fe_add(&fe, path, "must be 0 (no check) or a version");
        }
        if (fe.count == 0) {
            valid++;
            continue;
        }
        item_status(it, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid case");
        if (item_details(it, &fe) < 0)
            item_status(it, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory");
    }
    /* Count first, submit after: a callback must not see pending reach 0
     * while items are still being queued. */
    b->pending = valid + 1;
    request_who(r, &who);
    for (size_t i = 0; i < m->n_items; i++) {
        struct batch_item *it = &b->items[i];
        if (it->status.code != RITRA__STATUS_CODE__STATUS_UNSPECIFIED)
            continue;
        if (case_store_submit(server_db(srv), &who, "submit_cases.item", m->items[i]->case_,
                              m->items[i]->expected_version, submitted_item, it) < 0) {
            item_status(it, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory");
            b->pending--;
        }
    }
    if (--b->pending == 0)
        batch_finish(b);
}
