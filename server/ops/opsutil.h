/*
 * Small helpers shared by operations: the reply for a failed database
 * transaction, and checks for identifiers and timestamps in requests.
 */
#ifndef RITRA_OPSUTIL_H
#define RITRA_OPSUTIL_H

#include <stdbool.h>

#include "../db.h"

struct request;

/* Answers r for a transaction that did not succeed (UNAVAILABLE,
 * DEADLINE_EXCEEDED, ABORTED for serialization conflicts, else INTERNAL,
 * which is logged with the database's message). */
void ops_fail_db(struct request *r, enum db_outcome db, const char *error);

/* Canonical lowercase or uppercase 8-4-4-4-12 hex UUID. */
bool ops_uuid_valid(const char *s);

/* YYYY-MM-DD or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)), a real date. */
bool ops_timestamp_valid(const char *s);

#endif
