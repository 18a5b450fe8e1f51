/*
 * The audit trail, server side: what each request did (struct audit_note,
 * filled in by its operation), and writing that entry before the reply
 * leaves. Writes record their entry inside their own transaction (see
 * audit_sql_insert); everything else (reads, searches, denials, errors,
 * refused connections) gets an entry in a transaction of its own that must
 * commit before the reply is sent: no access without its entry.
 *
 * Chaining and signing the entries is audit_chain.c's job.
 */
#ifndef RITRA_AUDIT_H
#define RITRA_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "agency.h"
#include "db.h"

#define AUDIT_MAX_CASES   1000 /* a full SyncPull page; more are counted in details */
#define AUDIT_DETAILS_MAX 1024

struct audit_note {
    const char *operation; /* static string: "get_case", "connect", ... */
    char (*case_ids)[37];  /* grows as cases are noted; audit_note_clear frees it */
    int n_cases, cap_cases;
    int more_cases;                  /* case ids beyond AUDIT_MAX_CASES, counted in details */
    char details[AUDIT_DETAILS_MAX]; /* a JSON object, "" for none */
    int records;                     /* records returned */
    const char *visibility;          /* highest level served, "" if none */
    bool written;                    /* already recorded in the operation's transaction */
};

void audit_note_init(struct audit_note *n, const char *operation);
void audit_note_case(struct audit_note *n, const char *case_id);
/* Frees what audit_note_case allocated. */
void audit_note_clear(struct audit_note *n);
/* Adds "key": "value" to the details object (value escaped; truncated
 * sanely if the object would overflow). */
void audit_note_detail(struct audit_note *n, const char *key, const char *value);

/* Who acted; agency may be NULL (refused before one was known). */
struct audit_who {
    const struct agency *agency;
    const char *fingerprint;
    const char *actor;
    uint64_t request_id;
};

/* Writes the entry with outcome (a status code name) in its own
 * transaction; fn(ok) runs after the commit (or failure). */
void audit_write(struct db_pool *db, const struct audit_note *n, const struct audit_who *who,
                 const char *outcome, void (*fn)(bool ok, void *arg), void *arg);

/* The parameters of an audit insert embedded in a write's SQL, in this
 * order: agency_id, agency_code, fingerprint, actor, operation, details,
 * request_id. Fills values (7 entries, pointing into bufs). */
#define AUDIT_INSERT_PARAMS 7
#define AUDIT_ACTOR_MAX     256
struct audit_params {
    char agency_id[16];
    char actor[AUDIT_ACTOR_MAX + 1];
    char request_id[24];
    const char *values[AUDIT_INSERT_PARAMS];
};
void audit_params(struct audit_params *p, const struct audit_note *n, const struct audit_who *who);

#endif
