/*
 * libritra: typed calls for the case operations. Each builds one Request
 * around the caller's data (borrowed, never copied: packing only reads it),
 * sends it with ritra_call and hands the Response over only when
 * ritra_check_response accepts it, so callers can use the result member
 * without re-checking what the server sent.
 */
#include "ritra.h"

#include <stdlib.h>

#include "rerror.h"

/* SubmitCases promises one item per request item, each with a real status,
 * and a result on every OK item; anything less cannot be reported per case. */
static int submit_cases_complete(const Ritra__SubmitCasesRequest *req,
                                 const Ritra__SubmitCasesResult *res, struct ritra_error *err)
{
    size_t want = req != NULL ? req->n_items : 0;

    if (res->n_items != want) {
        rerror_set(err, RITRA_E_PROTOCOL, "SubmitCases answered %zu items for %zu cases",
                   res->n_items, want);
        return -1;
    }
    for (size_t i = 0; i < res->n_items; i++) {
        const Ritra__SubmitCasesItem *it = res->items[i];

        if (it->status == NULL || it->status->code == RITRA__STATUS_CODE__STATUS_UNSPECIFIED) {
            rerror_set(err, RITRA_E_PROTOCOL, "SubmitCases item %zu carries no status", i);
            return -1;
        }
        if (it->status->code == RITRA__STATUS_CODE__OK && it->result == NULL) {
            rerror_set(err, RITRA_E_PROTOCOL, "SubmitCases item %zu is OK without a result", i);
            return -1;
        }
    }
    return 0;
}

int ritra_check_response(const Ritra__Request *req, const Ritra__Response *resp,
                         struct ritra_error *err)
{
    const ProtobufCFieldDescriptor *f;
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    if (req == NULL || resp == NULL) {
        rerror_set(err, RITRA_E_USAGE, "ritra_check_response: NULL argument");
        return -1;
    }
    if (resp->status == NULL || resp->status->code != RITRA__STATUS_CODE__OK) {
        ritra_error_from_status(resp->status, err);
        return -1;
    }
    /* The schema gives each operation's result the operation's number. */
    if (req->op_case != RITRA__REQUEST__OP__NOT_SET &&
        (int)resp->result_case != (int)req->op_case) {
        rerror_set(err, RITRA_E_PROTOCOL, "OK answer to operation %d carries result %d",
                   (int)req->op_case, (int)resp->result_case);
        return -1;
    }
    if (req->op_case == RITRA__REQUEST__OP__NOT_SET)
        return 0;
    f = protobuf_c_message_descriptor_get_field(&ritra__response__descriptor,
                                                (unsigned)resp->result_case);
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        *(ProtobufCMessage *const *)((const char *)resp + f->offset) == NULL) {
        rerror_set(err, RITRA_E_PROTOCOL, "OK answer to operation %d carries no result",
                   (int)req->op_case);
        return -1;
    }
    switch (req->op_case) {
    case RITRA__REQUEST__OP_SUBMIT_CASES:
        return submit_cases_complete(req->submit_cases, resp->submit_cases, err);
    case RITRA__REQUEST__OP_GET_CASE:
        /* The case at RESTRICTED and FULL visibility, only a hit at HIT. */
        if (resp->get_case->case_ == NULL && resp->get_case->hit == NULL) {
            rerror_set(err, RITRA_E_PROTOCOL, "GetCase answered with neither a case nor a hit");
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

/* ritra_call + ritra_check_response, with the ownership rule of ritra.h. */
static int call_checked(struct ritra_conn *c, const Ritra__Request *req, Ritra__Response **out,
                        struct ritra_error *err)
{
    Ritra__Response *resp = NULL;

    if (ritra_call(c, req, &resp, err) < 0)
        return -1;
    if (ritra_check_response(req, resp, err) < 0) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    *out = resp;
    return 0;
}

/* The common start of every typed call: a usable err, *out NULL. */
static struct ritra_error *begin(Ritra__Response **out, struct ritra_error *err,
                                 struct ritra_error *scratch)
{
    if (err == NULL)
        err = scratch;
    rerror_clear(err);
    if (out != NULL)
        *out = NULL;
    return err;
}

static int usage(struct ritra_error *err, const char *fn)
{
    rerror_set(err, RITRA_E_USAGE, "%s: NULL argument", fn);
    return -1;
}

int ritra_submit_case(struct ritra_conn *c, const Ritra__Case *kase, int64_t expected_version,
                      Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SubmitCaseRequest sub = RITRA__SUBMIT_CASE_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (kase == NULL || out == NULL)
        return usage(err, "ritra_submit_case");
    sub.case_ = (Ritra__Case *)kase;
    sub.expected_version = expected_version;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASE;
    req.submit_case = &sub;
    return call_checked(c, &req, out, err);
}

int ritra_submit_cases(struct ritra_conn *c, const Ritra__Case *const *cases,
                       const int64_t *expected_versions, size_t n, Ritra__Response **out,
                       struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SubmitCasesRequest batch = RITRA__SUBMIT_CASES_REQUEST__INIT;
    Ritra__SubmitCaseRequest *items = NULL;
    Ritra__SubmitCaseRequest **ptrs = NULL;
    struct ritra_error scratch;
    int rc = -1;

    err = begin(out, err, &scratch);
    if (out == NULL || (n > 0 && cases == NULL))
        return usage(err, "ritra_submit_cases");
    items = calloc(n ? n : 1, sizeof(*items));
    ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    if (items == NULL || ptrs == NULL) {
        rerror_set(err, RITRA_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        Ritra__SubmitCaseRequest init = RITRA__SUBMIT_CASE_REQUEST__INIT;

        if (cases[i] == NULL) {
            rerror_set(err, RITRA_E_USAGE, "ritra_submit_cases: case %zu is NULL", i);
            goto done;
        }
        items[i] = init;
        items[i].case_ = (Ritra__Case *)cases[i];
        items[i].expected_version = expected_versions != NULL ? expected_versions[i] : 0;
        ptrs[i] = &items[i];
    }
    batch.n_items = n;
    batch.items = ptrs;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
    req.submit_cases = &batch;
    rc = call_checked(c, &req, out, err);
done:
    free(ptrs);
    free(items);
    return rc;
}

static int get_case(struct ritra_conn *c, const char *case_id, const char *external_ref,
                    Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;

    if (case_id != NULL)
        get.case_id = (char *)case_id;
    if (external_ref != NULL)
        get.external_ref = (char *)external_ref;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    return call_checked(c, &req, out, err);
}

int ritra_get_case_by_id(struct ritra_conn *c, const char *case_id, Ritra__Response **out,
                         struct ritra_error *err)
{
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (case_id == NULL || out == NULL)
        return usage(err, "ritra_get_case_by_id");
    return get_case(c, case_id, NULL, out, err);
}

int ritra_get_case_by_ref(struct ritra_conn *c, const char *external_ref, Ritra__Response **out,
                          struct ritra_error *err)
{
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (external_ref == NULL || out == NULL)
        return usage(err, "ritra_get_case_by_ref");
    return get_case(c, NULL, external_ref, out, err);
}

int ritra_list_cases(struct ritra_conn *c, const Ritra__ListCasesRequest *query,
                     Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListCasesRequest first_page = RITRA__LIST_CASES_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (out == NULL)
        return usage(err, "ritra_list_cases");
    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = query != NULL ? (Ritra__ListCasesRequest *)query : &first_page;
    return call_checked(c, &req, out, err);
}

int ritra_close_case(struct ritra_conn *c, const char *case_id, const char *status,
                     const char *reason, int64_t expected_version, Ritra__Response **out,
                     struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__CloseCaseRequest close = RITRA__CLOSE_CASE_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (case_id == NULL || status == NULL || out == NULL)
        return usage(err, "ritra_close_case");
    close.case_id = (char *)case_id;
    close.cas_status = (char *)status;
    if (reason != NULL)
        close.cas_reasonforcaseclosure = (char *)reason;
    close.expected_version = expected_version;
    req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
    req.close_case = &close;
    return call_checked(c, &req, out, err);
}

int ritra_sync_pull(struct ritra_conn *c, const char *cursor, unsigned limit, Ritra__Response **out,
                    struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SyncPullRequest pull = RITRA__SYNC_PULL_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (out == NULL)
        return usage(err, "ritra_sync_pull");
    if (cursor != NULL)
        pull.cursor = (char *)cursor;
    pull.limit = limit;
    req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    req.sync_pull = &pull;
    return call_checked(c, &req, out, err);
}
