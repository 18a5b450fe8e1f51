/*
 * Cases in PostgreSQL: the only place that knows the case tables' SQL.
 * Writes go through ritra_submit_case() (migrations/0002_cases.sql) in one
 * transaction; reads return the stored record plus the server-managed
 * fields, which callers overlay with case_store_view().
 */
#ifndef RITRA_CASE_STORE_H
#define RITRA_CASE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "agency.h"
#include "audit.h"
#include "db.h"
#include "ritra.pb-c.h"

#define CASE_ID_LEN 36

enum case_outcome {
    CASE_CREATED,
    CASE_UPDATED,
    CASE_UNCHANGED, /* identical content: nothing written */
    CASE_CONFLICT,  /* expected_version mismatch; version is the current one */
    CASE_FAILED,    /* the database did not do it; see db and error */
};

struct case_written {
    enum case_outcome outcome;
    char case_id[CASE_ID_LEN + 1];
    int64_t version;
    enum db_outcome db;
    const char *error; /* valid during the callback */
};

typedef void (*case_written_fn)(const struct case_written *w, void *arg);

/* Stores a validated case for who->agency, with its audit entry (for
 * operation) in the same transaction. The server-set fields of c are
 * ignored. fn is called exactly once, after the commit. Returns 0, or -1
 * if the submission could not even be prepared (out of memory). */
int case_store_submit(struct db_pool *db, const struct audit_who *who, const char *operation,
                      const Ritra__Case *c, int64_t expected_version, case_written_fn fn,
                      void *arg);

/* One stored case as read back. Pointers are valid during the callback. */
struct case_row {
    const char *case_id;
    bool visible; /* false: a sync row for a case the agency can no longer see */
    const char *owner_code;
    const char *owner_name;
    const char *contact;
    int64_t version;
    const char *created_at;
    const char *updated_at;
    const char *status;
    const char *handling_code;
    int person_count;
    const char *external_ref;
    /* The one rendering the database's decision allows (NULL below RESTRICTED). */
    const uint8_t *record;
    size_t record_len;
    const char *variant; /* NULL when the query asked for no rendering (lists) */
    /* The database's decision and the facts it made it from. */
    int db_level;
    int owner_agency_id;
    bool h3_allow_hits;
    int grant_direct;
    int grant_by_kind;
    int kind_default;
    const char *feed_xid; /* sync only: this change's feed position */
    const char *feed_seq;
};

/* rows is NULL and n 0 when nothing matched or on failure (db != DB_OK). */
typedef void (*case_rows_fn)(const struct case_row *rows, int n, enum db_outcome db,
                             const char *error, const char *next, void *arg);

/* The case by id (any case the agency may see), or by the agency's own
 * external_ref (one of them NULL). */
void case_store_get(struct db_pool *db, const struct agency *a, const char *case_id,
                    const char *external_ref, case_rows_fn fn, void *arg);

struct case_list_query {
    char **status;
    size_t n_status;
    char **handling;
    size_t n_handling;
    const char *updated_since; /* validated timestamp text, or NULL */
    const char *after_updated; /* keyset position from a page token, or NULL */
    const char *after_case_id;
    int own_only; /* 1 own cases, 0 others' cases, -1 both */
    int limit;
    /* SearchCases only (NULL / 0: no filter). */
    char **exploitation; /* any of these vic_TypeOfExploitation values */
    size_t n_exploitation;
    const char *event_country, *event_city; /* an event there */
    const char *event_from, *event_to;      /* an event overlapping these days */
};

/* Visible cases in (updated_at, case_id) order, without records; next is
 * the position after the last row, "" when there are no more. */
void case_store_list(struct db_pool *db, const struct agency *a, const struct case_list_query *q,
                     case_rows_fn fn, void *arg);

/* Changes since (xid, seq), at most limit; next is the new cursor. */
void case_store_sync(struct db_pool *db, const struct agency *a, const char *xid, const char *seq,
                     int limit, case_rows_fn fn, void *arg);

/* Unpacks a stored record into a Case (free with
 * ritra__case__free_unpacked(c, NULL)). NULL if the record is corrupt. */
Ritra__Case *case_store_unpack(const struct case_row *row);

/* A shallow copy of stored with the server-managed fields of row filled in,
 * for packing into a reply; it borrows every pointer. */
void case_store_view(const Ritra__Case *stored, const struct case_row *row, Ritra__Case *view);

/* The encoded Case of row without decoding it, as the value of a
 * length-delimited field (its length as a varint, then the bytes): the
 * stored record followed by the server-managed fields (a protobuf decoder
 * merges concatenated encodings; the stored record never holds those
 * fields). For replies that carry many cases (SyncPull), as an unknown
 * field, which protobuf-c packs verbatim after the field's tag. Sets *out
 * (free()) and *len; 0 or -1 when out of memory. */
int case_store_encoded_field(const struct case_row *row, uint8_t **out, size_t *len);

#endif
