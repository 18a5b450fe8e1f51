/*
 * Agencies as the registry in PostgreSQL knows them. A client certificate
 * maps to exactly one agency through its pinned SHA-256 fingerprint; the
 * pin, the agency and the pin's registered validity must all be in order.
 */
#ifndef RITRA_AGENCY_H
#define RITRA_AGENCY_H

#include "db.h"

#define AGENCY_CODE_MAX 32
#define AGENCY_NAME_MAX 800 /* 200 characters of UTF-8 */

/* Numbers match ritra.proto's AgencyKind. */
enum agency_kind {
    AGENCY_KIND_NONE = 0,
    AGENCY_PROSECUTOR = 1,
    AGENCY_POLICE = 2,
    AGENCY_MIGRATION = 3,
    AGENCY_VICTIM_SERVICES = 4,
    AGENCY_AUDITOR = 5,
    AGENCY_COORDINATOR = 6,
};

struct agency {
    int id;
    char code[AGENCY_CODE_MAX + 1];
    char name[AGENCY_NAME_MAX + 1];
    enum agency_kind kind;
    char fingerprint[65];
};

enum agency_verdict {
    AGENCY_ACCEPTED = 0,
    AGENCY_UNREGISTERED, /* no such pin */
    AGENCY_DISABLED,     /* the agency is disabled */
    AGENCY_PIN_REVOKED,  /* the pin was withdrawn with ritra-admin */
    AGENCY_PIN_NOT_YET_VALID,
    AGENCY_PIN_EXPIRED,
    AGENCY_LOOKUP_FAILED, /* the database did not answer: not a refusal */
};

/* a is valid only during the call, and set whenever the pin was found
 * (every verdict but UNREGISTERED and LOOKUP_FAILED);
 * detail explains AGENCY_LOOKUP_FAILED. */
typedef void (*agency_fn)(enum agency_verdict verdict, const struct agency *a,
                          enum db_outcome outcome, const char *detail, void *arg);

/* Looks the fingerprint up; fn is called exactly once, later. */
void agency_identify(struct db_pool *db, const char *fingerprint, agency_fn fn, void *arg);

/* A transaction acting as agency a. Its first statement re-checks a's
 * registration (the transaction fails with DB_UNAUTHORIZED if a may no
 * longer act) and names a for row-level security; the caller's statements
 * follow, so their results start at index 1. Never returns NULL. */
struct db_txn *agency_txn(const struct agency *a);

/* "prosecutor" … "coordinator"; "unknown" otherwise. */
const char *agency_kind_name(enum agency_kind kind);
/* Returns the kind, or AGENCY_KIND_NONE for an unknown name. */
enum agency_kind agency_kind_parse(const char *name);
/* A human-readable reason for a refusal, for logs and replies. */
const char *agency_verdict_reason(enum agency_verdict v);

#endif
