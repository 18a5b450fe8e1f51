/*
 * Sharing grants in PostgreSQL: the only place that knows the grants
 * tables' SQL. Every state change is one call of a SECURITY DEFINER
 * function (migrations/0003_access.sql) that checks its own preconditions
 * under the row lock, followed in the same transaction by a read of the
 * grant it touched.
 */
#ifndef RITRA_GRANT_STORE_H
#define RITRA_GRANT_STORE_H

#include <stdbool.h>

#include "agency.h"
#include "audit.h"
#include "db.h"
#include "ritra.pb-c.h"

/* A grant as read back; strings valid during the callback. */
struct grant_row {
    Ritra__Grant grant; /* borrows the result's strings */
};

/* outcome is the SQL function's verdict ("created", "exists", "done",
 * "not_found", "denied", "self", "no_grantee", "wrong_state"; "" for
 * lists); grants has the touched grant (or the page). */
typedef void (*grant_fn)(const char *outcome, Ritra__Grant *const *grants, int n,
                         enum db_outcome db, const char *error, const char *next, void *arg);

struct grant_share {
    const char *case_id;
    const char *grantee_agency; /* code, or NULL */
    const char *grantee_kind;   /* kind name, or NULL */
    int level;                  /* 1..3 */
    const char *purpose;
    const char *expires_at; /* RFC 3339 or NULL */
};

/* Each writes the transition and its audit entry in one transaction. */
void grant_store_share(struct db_pool *db, const struct audit_who *who, const struct grant_share *s,
                       grant_fn fn, void *arg);
void grant_store_respond(struct db_pool *db, const struct audit_who *who, const char *grant_id,
                         bool accept, const char *reason, grant_fn fn, void *arg);
void grant_store_revoke(struct db_pool *db, const struct audit_who *who, const char *grant_id,
                        const char *reason, grant_fn fn, void *arg);

struct grant_list_query {
    bool received; /* else given */
    char **states; /* validated state names */
    size_t n_states;
    const char *case_id;       /* or NULL */
    const char *after_created; /* keyset position, or NULL */
    const char *after_id;
    int limit;
};

void grant_store_list(struct db_pool *db, const struct agency *a, const struct grant_list_query *q,
                      grant_fn fn, void *arg);

/* Marks grants past their expiry (any agency's), telling their feeds. */
void grant_store_expire(struct db_pool *db, void (*done)(int expired, void *arg), void *arg);

#endif
