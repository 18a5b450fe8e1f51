/*
 * libritra: typed calls for the sharing operations (ShareCase,
 * RespondToShare, RevokeShare, ListShares). Same shape as ritra_case.c:
 * one Request around the caller's borrowed data, sent with ritra_call, the
 * Response handed over only when ritra_check_response accepts it. The
 * three calls that answer with one grant also check that the grant is
 * there, so callers can print it without a NULL test.
 */
#include "ritra.h"

#include "rerror.h"

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

/* The grant an OK ShareCase, RespondToShare or RevokeShare carries. */
static const Ritra__Grant *result_grant(const Ritra__Response *resp)
{
    switch (resp->result_case) {
    case RITRA__RESPONSE__RESULT_SHARE_CASE:
        return resp->share_case->grant;
    case RITRA__RESPONSE__RESULT_RESPOND_TO_SHARE:
        return resp->respond_to_share->grant;
    case RITRA__RESPONSE__RESULT_REVOKE_SHARE:
        return resp->revoke_share->grant;
    default:
        return NULL;
    }
}

/* ritra_call + ritra_check_response (+ the grant, when one is promised),
 * with the ownership rule of ritra.h. */
static int call_checked(struct ritra_conn *c, const Ritra__Request *req, int want_grant,
                        Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Response *resp = NULL;

    if (ritra_call(c, req, &resp, err) < 0)
        return -1;
    if (ritra_check_response(req, resp, err) < 0) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    if (want_grant && result_grant(resp) == NULL) {
        rerror_set(err, RITRA_E_PROTOCOL, "OK answer to operation %d carries no grant",
                   (int)req->op_case);
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    *out = resp;
    return 0;
}

int ritra_share_case(struct ritra_conn *c, const char *case_id, const char *grantee_agency,
                     const char *grantee_kind, const char *level, const char *purpose,
                     const char *expires_at, Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ShareCaseRequest share = RITRA__SHARE_CASE_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (case_id == NULL || level == NULL || purpose == NULL || out == NULL)
        return usage(err, "ritra_share_case");
    /* Exactly one recipient; the server would refuse anything else too,
     * but this is a caller's bug, not the server's verdict. */
    if ((grantee_agency == NULL) == (grantee_kind == NULL)) {
        rerror_set(err, RITRA_E_USAGE,
                   "ritra_share_case: give exactly one of grantee_agency and grantee_kind");
        return -1;
    }
    share.case_id = (char *)case_id;
    if (grantee_agency != NULL)
        share.grantee_agency = (char *)grantee_agency;
    if (grantee_kind != NULL)
        share.grantee_kind = (char *)grantee_kind;
    share.level = (char *)level;
    share.purpose = (char *)purpose;
    if (expires_at != NULL)
        share.expires_at = (char *)expires_at;
    req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    req.share_case = &share;
    return call_checked(c, &req, 1, out, err);
}

int ritra_respond_to_share(struct ritra_conn *c, const char *grant_id, int accept,
                           const char *reason, Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RespondToShareRequest respond = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (grant_id == NULL || out == NULL)
        return usage(err, "ritra_respond_to_share");
    respond.grant_id = (char *)grant_id;
    respond.accept = accept != 0;
    if (reason != NULL)
        respond.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    req.respond_to_share = &respond;
    return call_checked(c, &req, 1, out, err);
}

int ritra_revoke_share(struct ritra_conn *c, const char *grant_id, const char *reason,
                       Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RevokeShareRequest revoke = RITRA__REVOKE_SHARE_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (grant_id == NULL || out == NULL)
        return usage(err, "ritra_revoke_share");
    revoke.grant_id = (char *)grant_id;
    if (reason != NULL)
        revoke.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_REVOKE_SHARE;
    req.revoke_share = &revoke;
    return call_checked(c, &req, 1, out, err);
}

int ritra_list_shares(struct ritra_conn *c, const Ritra__ListSharesRequest *query,
                      Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    /* No default query: the direction is required and has no neutral value. */
    if (query == NULL || out == NULL)
        return usage(err, "ritra_list_shares");
    req.op_case = RITRA__REQUEST__OP_LIST_SHARES;
    req.list_shares = (Ritra__ListSharesRequest *)query;
    return call_checked(c, &req, 0, out, err);
}
