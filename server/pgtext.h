/*
 * Small pieces of SQL text shared by the stores: timestamps rendered the
 * way every reply shows them, and text[] literals for array parameters.
 */
#ifndef RITRA_PGTEXT_H
#define RITRA_PGTEXT_H

#include <stddef.h>

/* A timestamptz column as RFC 3339 UTC with microseconds. */
#define PGTEXT_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* A PostgreSQL text[] literal of v (quoted, escaped); the caller frees it.
 * NULL on out-of-memory. Values must not hold control characters
 * (validation refuses them). */
char *pgtext_array(char *const *v, size_t n);

#endif
