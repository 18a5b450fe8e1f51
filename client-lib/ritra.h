/*
 * libritra: blocking client for the ritra case-exchange protocol.
 *
 * One struct ritra_conn is one mutual-TLS connection to a ritra server.
 * Calls block the calling thread until the server answers or io_timeout_ms
 * passes without the socket making progress; a connection must not be used
 * by two threads at once. The library never raises SIGPIPE (it writes with
 * MSG_NOSIGNAL through its own socket BIO) and never changes signal
 * dispositions.
 *
 * Errors: every call that can fail fills a struct ritra_error. Its code is
 * either a Ritra__StatusCode (1..13) sent by the server or one of the
 * RITRA_E_* transport codes below. After a call returns -1 with a
 * transport code, or with a connection-level status from the server, the
 * connection is unusable: every later call fails the same way, and the
 * caller should ritra_close() it and reconnect.
 */
#ifndef RITRA_H
#define RITRA_H

#include <stddef.h>
#include <stdint.h>

#include "ritra.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libritra is built with hidden visibility; this marks its API. */
#if defined(__GNUC__)
#define RITRA_API __attribute__((visibility("default")))
#else
#define RITRA_API
#endif

/* Library errors, disjoint from the server's Ritra__StatusCode values. */
enum {
    RITRA_E_CONNECT = 100,  /* name resolution or TCP connect failed */
    RITRA_E_TLS = 101,      /* TLS failed (e.g. server certificate not trusted) */
    RITRA_E_TIMEOUT = 102,  /* connect_timeout_ms or io_timeout_ms passed */
    RITRA_E_PROTOCOL = 103, /* the server sent something that is not valid ritra */
    RITRA_E_CLOSED = 104,   /* the connection ended while a call was waiting */
    RITRA_E_USAGE = 105,    /* bad arguments or unreadable local files */
    RITRA_E_NOMEM = 106,    /* out of memory */
};

#define RITRA_PROTOCOL_VERSION        1u
#define RITRA_DEFAULT_CONNECT_TIMEOUT 10000 /* ms */
#define RITRA_DEFAULT_IO_TIMEOUT      30000 /* ms */

struct ritra_error {
    int code;           /* 0 on success */
    char message[512];  /* human-readable; control characters replaced */
    char details[1024]; /* server field errors, "path: reason" lines joined by '\n' */
};

/* Zero-initialise, then set what you need; zero fields take the defaults. */
struct ritra_opts {
    const char *addr;       /* "host:port" or "[v6addr]:port"; required */
    const char *ca_file;    /* PEM bundle the server certificate must chain to; required */
    const char *cert_file;  /* PEM client certificate (chain); NULL presents none */
    const char *key_file;   /* PEM private key; NULL reads it from cert_file */
    const char *actor;      /* Request.actor when the caller leaves it empty */
    int connect_timeout_ms; /* DNS excluded: TCP connect + TLS handshake; <= 0 default */
    int io_timeout_ms;      /* longest wait for the socket within a call; <= 0 default */
    uint32_t max_frame_len; /* largest frame sent or accepted; 0: 64 MiB (the maximum) */
    unsigned max_in_flight; /* ritra_call_batch pipelining window; 0: unlimited */
};

struct ritra_conn;

/* Resolves, connects and completes the TLS handshake (server certificate
 * checked against ca_file and the host name or IP). Returns a connection
 * the caller frees with ritra_close(), or NULL with *err filled. In TLS 1.3
 * a refused client certificate is only reported by the first call. */
RITRA_API struct ritra_conn *ritra_connect(const struct ritra_opts *opts, struct ritra_error *err);

/* Sends close_notify (unless the connection already failed), closes the
 * socket and frees everything. NULL-safe. */
RITRA_API void ritra_close(struct ritra_conn *c);

/* Sends one Request and waits for its Response. The caller's request is not
 * modified: the packed copy gets a fresh non-zero id when req->id is 0, the
 * connection's actor when req->actor is empty and RITRA_PROTOCOL_VERSION
 * when protocol_version is 0. Returns 0 when the Response arrived, whatever
 * its status; the caller frees *resp with ritra__response__free_unpacked().
 * Returns -1 with *resp NULL and *err filled on transport or protocol
 * failure, or when the server answered with a connection-level error (id 0;
 * err->code is then the server's status). */
RITRA_API int ritra_call(struct ritra_conn *c, const Ritra__Request *req, Ritra__Response **resp,
                         struct ritra_error *err);

/* Pipelines n requests (filled in, and left unmodified, as by ritra_call;
 * their ids must be unique) while reading the responses, and stores the
 * Response to reqs[i] in resps[i] whatever order they arrive in. Returns 0
 * when all n arrived (the caller frees each), or -1 with every resps[i]
 * NULL and *err filled. max_in_flight bounds the unanswered requests. */
RITRA_API int ritra_call_batch(struct ritra_conn *c, Ritra__Request *const *reqs, size_t n,
                               Ritra__Response **resps, struct ritra_error *err);

/* Copies a non-OK Status into *err (code, message, field details). Returns
 * the status code, or RITRA_E_PROTOCOL when status is NULL or unspecified. */
RITRA_API int ritra_error_from_status(const Ritra__Status *status, struct ritra_error *err);

struct ritra_agency {
    char code[64];
    char name[256];
    int kind;             /* a Ritra__AgencyKind value */
    char fingerprint[65]; /* SHA-256 of the client certificate, lowercase hex */
};

struct ritra_ping_result {
    char server_version[64];
    unsigned protocol_version;  /* highest version the server speaks */
    struct ritra_agency agency; /* who the server believes we are */
    int64_t server_time_ms;     /* Unix epoch milliseconds */
};

/* Pings the server. Returns 0 only when the status is OK and *out is
 * filled; otherwise -1 with err->code the server's status or a RITRA_E_*. */
RITRA_API int ritra_ping(struct ritra_conn *c, struct ritra_ping_result *out,
                         struct ritra_error *err);

/*
 * Case operations. One ownership rule for all of them: a call returns 0
 * only when the server answered OK, and then *out is the Response as
 * received, which the caller frees with ritra__response__free_unpacked().
 * Its result member for the operation ((*out)->submit_case, ->get_case,
 * ...) is checked to be present, so it needs no NULL test. On -1, *out is
 * NULL and *err holds the server's status (code, message, field details)
 * or a RITRA_E_* code. Arguments are only read, never kept or modified.
 */

/* SubmitCase. expected_version 0 skips the version check; otherwise a case
 * stored at another version fails with FAILED_PRECONDITION (7) and the
 * message names the current version. Result: (*out)->submit_case. */
RITRA_API int ritra_submit_case(struct ritra_conn *c, const Ritra__Case *kase,
                                int64_t expected_version, Ritra__Response **out,
                                struct ritra_error *err);

/* SubmitCases: n cases in one request, cases[i] at expected_versions[i]
 * (NULL: no check for any). Returns 0 when the request as a whole was
 * answered OK, even if items failed: (*out)->submit_cases->items[i], one
 * per case and each with a status, is the outcome of cases[i]. */
RITRA_API int ritra_submit_cases(struct ritra_conn *c, const Ritra__Case *const *cases,
                                 const int64_t *expected_versions, size_t n, Ritra__Response **out,
                                 struct ritra_error *err);

/* GetCase by the server's case id. Result: (*out)->get_case, with case_
 * set at RESTRICTED and FULL visibility and only hit at HIT (its
 * visibility field says which); handling_notice is what the handling code
 * obliges the caller to. */
RITRA_API int ritra_get_case_by_id(struct ritra_conn *c, const char *case_id, Ritra__Response **out,
                                   struct ritra_error *err);

/* GetCase by the caller's own external_ref. Result as ritra_get_case_by_id. */
RITRA_API int ritra_get_case_by_ref(struct ritra_conn *c, const char *external_ref,
                                    Ritra__Response **out, struct ritra_error *err);

/* ListCases; query NULL asks for the first page of all cases. Result:
 * (*out)->list_cases; pass its next_page_token back for the next page. */
RITRA_API int ritra_list_cases(struct ritra_conn *c, const Ritra__ListCasesRequest *query,
                               Ritra__Response **out, struct ritra_error *err);

/* CloseCase with cas_Status status (Closed | ClosedReferred | Withdrawn),
 * reason NULL for none, expected_version as in ritra_submit_case.
 * Result: (*out)->close_case. */
RITRA_API int ritra_close_case(struct ritra_conn *c, const char *case_id, const char *status,
                               const char *reason, int64_t expected_version, Ritra__Response **out,
                               struct ritra_error *err);

/* SyncPull: changes after cursor (NULL or "": from the beginning), at most
 * limit (0: the server's default). Result: (*out)->sync_pull; store its
 * next_cursor only once the changes are safely processed. */
RITRA_API int ritra_sync_pull(struct ritra_conn *c, const char *cursor, unsigned limit,
                              Ritra__Response **out, struct ritra_error *err);

/* For ritra_call and ritra_call_batch users: 0 when resp answers req with
 * status OK and carries the result member for req's operation, with what
 * the typed calls above promise (for SubmitCases, one item with a status
 * per request item; for GetCase, a case or a hit); else -1 with *err
 * filled (the server's status, or RITRA_E_PROTOCOL). */
RITRA_API int ritra_check_response(const Ritra__Request *req, const Ritra__Response *resp,
                                   struct ritra_error *err);

/* "OK", "UNAUTHENTICATED", ..., "CONNECT", "TLS", ...; "UNKNOWN" otherwise.
 * Never NULL; the string is static. */
RITRA_API const char *ritra_status_name(int code);

/* 1 when repeating the same request later may succeed (UNAVAILABLE,
 * ABORTED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and the transport errors
 * CONNECT, TLS, TIMEOUT, CLOSED), else 0. */
RITRA_API int ritra_status_retryable(int code);

/* "prosecutor", "police", "migration", "victim_services", "auditor",
 * "coordinator"; "unspecified" for 0 and "unknown" otherwise. Static. */
RITRA_API const char *ritra_agency_kind_name(int kind);

/*
 * Sharing (docs/access.md). The ownership rule of the case operations
 * above holds: 0 only when the server answered OK, *out the Response the
 * caller frees with ritra__response__free_unpacked(), its result member
 * present; -1 with *out NULL and *err filled otherwise. For share, respond
 * and revoke the result's grant is checked to be present too.
 */

/* ShareCase: offers case_id to one agency (grantee_agency, a code) or
 * grants it to every agency of a kind (grantee_kind: "police", ...);
 * exactly one of the two is non-NULL, else RITRA_E_USAGE. level is "HIT",
 * "RESTRICTED" or "FULL"; purpose is required; expires_at is RFC 3339 or
 * NULL for none. Result: (*out)->share_case->grant, state "offered" (or
 * "accepted" for a kind). A live grant to the same recipient fails with
 * ALREADY_EXISTS (6), its id in the message. */
RITRA_API int ritra_share_case(struct ritra_conn *c, const char *case_id,
                               const char *grantee_agency, const char *grantee_kind,
                               const char *level, const char *purpose, const char *expires_at,
                               Ritra__Response **out, struct ritra_error *err);

/* RespondToShare: the recipient accepts (accept non-zero) or rejects an
 * offered grant; reason NULL for none. A grant no longer offered fails
 * with FAILED_PRECONDITION (7). Result: (*out)->respond_to_share->grant. */
RITRA_API int ritra_respond_to_share(struct ritra_conn *c, const char *grant_id, int accept,
                                     const char *reason, Ritra__Response **out,
                                     struct ritra_error *err);

/* RevokeShare: the grantor or the case owner withdraws a grant (and its
 * onward grants); reason NULL for none. Result: (*out)->revoke_share->grant. */
RITRA_API int ritra_revoke_share(struct ritra_conn *c, const char *grant_id, const char *reason,
                                 Ritra__Response **out, struct ritra_error *err);

/* ListShares: query is required (its direction, "given" or "received", has
 * no default). Result: (*out)->list_shares; pass its next_page_token back
 * for the next page. */
RITRA_API int ritra_list_shares(struct ritra_conn *c, const Ritra__ListSharesRequest *query,
                                Ritra__Response **out, struct ritra_error *err);

/*
 * Search and matching (docs/search.md). The ownership rule of the case
 * operations holds: 0 only when the server answered OK, *out the Response
 * the caller frees, its result member present.
 */

/* SearchPersons: ranked identities with the records the caller may know
 * of. Result: (*out)->search_persons. */
RITRA_API int ritra_search_persons(struct ritra_conn *c, const Ritra__SearchPersonsRequest *query,
                                   Ritra__Response **out, struct ritra_error *err);

/* SearchCases: query NULL lists every case visible at RESTRICTED or above.
 * Result: (*out)->search_cases. */
RITRA_API int ritra_search_cases(struct ritra_conn *c, const Ritra__SearchCasesRequest *query,
                                 Ritra__Response **out, struct ritra_error *err);

/* ListMatches: the caller's review queue (query NULL: pending candidates).
 * Result: (*out)->list_matches. */
RITRA_API int ritra_list_matches(struct ritra_conn *c, const Ritra__ListMatchesRequest *query,
                                 Ritra__Response **out, struct ritra_error *err);

/* DecideMatch: confirm (non-zero) or reject a candidate; reason required.
 * Result: (*out)->decide_match. */
RITRA_API int ritra_decide_match(struct ritra_conn *c, const char *candidate_id, int confirm,
                                 const char *reason, Ritra__Response **out,
                                 struct ritra_error *err);

/* MergeIdentities: moves the records of other_identity_id into identity_id.
 * Result: (*out)->merge_identities. */
RITRA_API int ritra_merge_identities(struct ritra_conn *c, const char *identity_id,
                                     const char *other_identity_id, const char *reason,
                                     Ritra__Response **out, struct ritra_error *err);

/* UnmergePerson: takes one of the caller's person records out of its
 * identity. Result: (*out)->unmerge_person. */
RITRA_API int ritra_unmerge_person(struct ritra_conn *c, const char *person_id, const char *reason,
                                   Ritra__Response **out, struct ritra_error *err);

/* CaseMatches: the matcher's links for a case's persons and the related
 * cases. Result: (*out)->case_matches. */
RITRA_API int ritra_case_matches(struct ritra_conn *c, const char *case_id, Ritra__Response **out,
                                 struct ritra_error *err);

/*
 * Audit (docs/audit.md). AuditPull follows the ownership rule of the case
 * operations. Everything after it is the offline verifier: it needs no
 * connection, only entries and checkpoints as AuditPull returned them
 * (or as pbjson read them back from a file) and the audit public key.
 */

#define RITRA_AUDIT_HASH_LEN   32 /* SHA-256 */
#define RITRA_AUDIT_KEY_ID_LEN 16 /* hex digits */

/* AuditPull; q NULL asks for the first page from seq 1, unfiltered.
 * Result: (*out)->audit_pull, its entries checked to be in increasing seq
 * order and its next_seq past the last of them; while more is set, pass
 * next_seq back as from_seq. Only chained entries are returned: an entry
 * appears once the server's chainer has given it a seq. */
RITRA_API int ritra_audit_pull(struct ritra_conn *c, const Ritra__AuditPullRequest *q,
                               Ritra__Response **out, struct ritra_error *err);

/* The chain hash of e: SHA-256 of prev (the previous entry's hash, 32
 * zero bytes before seq 1) followed by e's canonical encoding at e->seq.
 * e->prev_hash and e->hash are not read: compare them with the result.
 * NULL strings count as "". Returns 0 with out filled, or -1 (a NULL
 * argument, or the digest failed). */
RITRA_API int ritra_audit_entry_hash(const Ritra__AuditEntry *e,
                                     const uint8_t prev[RITRA_AUDIT_HASH_LEN],
                                     uint8_t out[RITRA_AUDIT_HASH_LEN]);

/* Decodes exactly 2 * len hex digits (either case) into out[len].
 * Returns 0, or -1 when hex is NULL, of another length or not hex. */
RITRA_API int ritra_audit_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Writes in[0..len) as 2 * len lowercase hex digits and a NUL into out. */
RITRA_API void ritra_audit_hex_encode(const uint8_t *in, size_t len, char *out);

/* An audit public key: the Ed25519 key the server signs checkpoints with. */
struct ritra_audit_key;

/* Reads a PEM public key (SubjectPublicKeyInfo, as certs/mkpki.sh writes
 * audit-signing.pub). Returns a key the caller frees with
 * ritra_audit_key_free(), or NULL with *err filled (RITRA_E_USAGE: cannot
 * read it, or not Ed25519). */
RITRA_API struct ritra_audit_key *ritra_audit_key_load(const char *path, struct ritra_error *err);

/* The key's id: the first 16 hex digits of SHA-256 of its DER
 * SubjectPublicKeyInfo, as checkpoints name their key; the string lives
 * as long as key. "" for NULL. */
RITRA_API const char *ritra_audit_key_id(const struct ritra_audit_key *key);

/* NULL-safe. */
RITRA_API void ritra_audit_key_free(struct ritra_audit_key *key);

/* Checks that cp was signed by key: cp->key_id names key, and its
 * signature is key's Ed25519 signature of
 * "ritra-checkpoint-v1\n<seq>\n<hash>\n". Whether cp->hash is the chain
 * hash at cp->seq is the caller's check (ritra_audit_entry_hash). Returns
 * 0, or -1 with *err filled: RITRA_E_PROTOCOL and the reason when cp does
 * not verify, RITRA_E_USAGE for a NULL argument. */
RITRA_API int ritra_audit_verify_checkpoint(const Ritra__AuditCheckpoint *cp,
                                            const struct ritra_audit_key *key,
                                            struct ritra_error *err);

/*
 * Verifying a stretch of the trail: the checkpoints first (any order),
 * then the entries of an unfiltered pull in seq order, starting at seq 1
 * or anywhere after it (the first entry's prev_hash is then taken as
 * given, and checked against a checkpoint at the seq before it if there
 * is one). The verifier checks seq contiguity, prev_hash linkage, every
 * entry's hash, every checkpoint's signature, that each checkpoint's hash
 * is the recomputed hash at its seq, and that no checkpoint lies beyond
 * the last entry (a truncated trail). It stops at the first failure.
 */
struct ritra_audit_verifier;

struct ritra_audit_verdict {
    int ok;             /* 1: everything given checks out */
    int64_t bad_seq;    /* !ok: the first seq that does not check out */
    char reason[256];   /* !ok: why, e.g. "hash does not match the entry's content" */
    size_t entries;     /* entries given */
    int64_t first_seq;  /* of the entries; 0 when there are none */
    int64_t last_seq;   /* the last entry checked (ok: the chain is intact up to here) */
    size_t checkpoints; /* checkpoints matched against the entries */
    int64_t signed_seq; /* the highest seq a verified checkpoint covers; 0 none */
};

/* keys[0..n): the public keys checkpoints may be signed with (several
 * after a rotation); they must outlive the verifier. NULL on no memory. */
RITRA_API struct ritra_audit_verifier *
ritra_audit_verifier_new(const struct ritra_audit_key *const *keys, size_t n);

/* NULL-safe. */
RITRA_API void ritra_audit_verifier_free(struct ritra_audit_verifier *v);

/* Adds a checkpoint (copied; its signature is checked now, a bad one is
 * reported when the walk reaches its seq). Only before the first entry.
 * Returns 0, or -1 when out of memory or entries were already added. */
RITRA_API int ritra_audit_verifier_add_checkpoint(struct ritra_audit_verifier *v,
                                                  const Ritra__AuditCheckpoint *cp);

/* Checks the next entry (read, not kept). Returns 0, or -1 once the trail
 * failed (at this entry or before; the verdict says where). */
RITRA_API int ritra_audit_verifier_add_entry(struct ritra_audit_verifier *v,
                                             const Ritra__AuditEntry *e);

/* Ends the walk (checkpoints beyond the last entry fail it) and fills
 * *out. Returns 0 when the verdict is ok, else -1. */
RITRA_API int ritra_audit_verifier_finish(struct ritra_audit_verifier *v,
                                          struct ritra_audit_verdict *out);

#ifdef __cplusplus
}
#endif

#endif
