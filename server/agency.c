#include "agency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    "unknown", "prosecutor", "police", "migration", "victim_services", "auditor", "coordinator",
};

const char *agency_kind_name(enum agency_kind kind)
{
    if ((int)kind < 0 || (size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return kind_names[0];
    return kind_names[kind];
}

enum agency_kind agency_kind_parse(const char *name)
{
    for (size_t i = 1; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
        if (strcmp(name, kind_names[i]) == 0)
            return (enum agency_kind)i;
    return AGENCY_KIND_NONE;
}

const char *agency_verdict_reason(enum agency_verdict v)
{
    switch (v) {
    case AGENCY_ACCEPTED:
        return "accepted";
    case AGENCY_UNREGISTERED:
        return "certificate not registered to any agency";
    case AGENCY_DISABLED:
        return "agency disabled";
    case AGENCY_PIN_REVOKED:
        return "certificate registration revoked";
    case AGENCY_PIN_NOT_YET_VALID:
        return "certificate registration not yet valid";
    case AGENCY_PIN_EXPIRED:
        return "certificate registration expired";
    case AGENCY_LOOKUP_FAILED:
        return "agency registry unavailable";
    }
    return "unknown";
}

struct lookup {
    agency_fn fn;
    void *arg;
    char fingerprint[65];
};

/* One round trip; the verdict is computed by the database clock so that all
 * server processes agree on validity. */
static const char lookup_sql[] =
    "SELECT a.agency_id, a.code, a.name, a.kind::text, a.enabled,"
    "       c.revoked_at IS NOT NULL, c.not_before > now(), c.not_after <= now()"
    "  FROM agency_certs c JOIN agencies a USING (agency_id)"
    " WHERE c.fingerprint = $1";

static void lookup_done(struct db_txn *txn, enum db_outcome outcome, void *arg)
{
    struct lookup *lk = arg;
    const PGresult *r = db_txn_result(txn, 0);
    struct agency a;
    enum agency_verdict v;

    memset(&a, 0, sizeof(a));
    if (outcome != DB_OK || r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        lk->fn(AGENCY_LOOKUP_FAILED, NULL, outcome == DB_OK ? DB_SQL_ERROR : outcome,
               db_txn_error(txn), lk->arg);
        goto out;
    }
    if (PQntuples(r) == 0) {
        lk->fn(AGENCY_UNREGISTERED, NULL, outcome, NULL, lk->arg);
        goto out;
    }
    a.id = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    snprintf(a.code, sizeof(a.code), "%s", PQgetvalue(r, 0, 1));
    snprintf(a.name, sizeof(a.name), "%s", PQgetvalue(r, 0, 2));
    a.kind = agency_kind_parse(PQgetvalue(r, 0, 3));
    snprintf(a.fingerprint, sizeof(a.fingerprint), "%s", lk->fingerprint);
    if (strcmp(PQgetvalue(r, 0, 4), "t") != 0)
        v = AGENCY_DISABLED;
    else if (strcmp(PQgetvalue(r, 0, 5), "t") == 0)
        v = AGENCY_PIN_REVOKED;
    else if (strcmp(PQgetvalue(r, 0, 6), "t") == 0)
        v = AGENCY_PIN_NOT_YET_VALID;
    else if (strcmp(PQgetvalue(r, 0, 7), "t") == 0)
        v = AGENCY_PIN_EXPIRED;
    else
        v = AGENCY_ACCEPTED;
    lk->fn(v, &a, outcome, NULL, lk->arg);
out:
    free(lk);
}

void agency_identify(struct db_pool *db, const char *fingerprint, agency_fn fn, void *arg)
{
    struct lookup *lk = calloc(1, sizeof(*lk));
    struct db_txn *txn = db_txn_new();
    const char *params[1] = {fingerprint};

    if (lk == NULL || db_txn_add(txn, lookup_sql, 1, params) < 0)
        abort();
    lk->fn = fn;
    lk->arg = arg;
    snprintf(lk->fingerprint, sizeof(lk->fingerprint), "%s", fingerprint);
    db_submit(db, txn, lookup_done, lk);
}

struct db_txn *agency_txn(const struct agency *a)
{
    static const char sql[] = "SELECT ritra_act_as($1::integer, $2)";
    struct db_txn *t = db_txn_new();
    char id[16];
    const char *params[2] = {id, a->fingerprint};

    snprintf(id, sizeof(id), "%d", a->id);
    if (db_txn_add(t, sql, 2, params) < 0)
        abort();
    return t;
}
