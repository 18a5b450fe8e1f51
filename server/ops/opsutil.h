/*
 * Small helpers shared by operations: the reply for a failed database
 * transaction, and checks for identifiers and timestamps in requests.
 */
#ifndef RITRA_OPSUTIL_H
#define RITRA_OPSUTIL_H

#include <stdbool.h>

#include "../agency.h"
#include "../case_store.h"
#include "../db.h"
#include "../policy.h"

struct request;

/* Answers r for a transaction that did not succeed (UNAVAILABLE,
 * DEADLINE_EXCEEDED, ABORTED for serialization conflicts, else INTERNAL,
 * which is logged with the database's message). */
void ops_fail_db(struct request *r, enum db_outcome db, const char *error);

/* Canonical lowercase or uppercase 8-4-4-4-12 hex UUID. */
bool ops_uuid_valid(const char *s);

/* YYYY-MM-DD or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)), a real date. */
bool ops_timestamp_valid(const char *s);

/* The viewer's level on a row as the policy module decides it, checked
 * against the database's own decision and the rendering it served.
 * Returns 0, or -1 when they disagree (logged as an error): the caller
 * must then fail closed. */
int ops_row_level(const struct agency *viewer, const struct case_row *row, enum policy_level *out);

/* Fills hit (borrowing row's strings) for a HIT-level answer. */
void ops_fill_hit(Ritra__CaseHit *hit, const struct case_row *row, const char *reason);

#endif
