/*
 * libritra: the audit trail. ritra_audit_pull is a typed call shaped like
 * those in ritra_case.c. The rest is the offline verifier, which needs no
 * connection: the canonical encoding of an entry and its chain hash (the
 * same bytes as ritra_audit_canonical in migrations/0005_audit.sql;
 * docs/audit.md gives the definition), and the Ed25519 check of a signed
 * checkpoint against the audit public key.
 */
#include "ritra.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rerror.h"

#define CHECKPOINT_SIG_LEN 64 /* Ed25519 */

struct ritra_audit_key {
    EVP_PKEY *pkey;
    char key_id[RITRA_AUDIT_KEY_ID_LEN + 1];
};

/* ---- AuditPull ---- */

/* What a caller paging through the trail relies on: entries in chain
 * order, and a next_seq past the last one. */
static int pull_result_sane(const Ritra__AuditPullResult *res, struct ritra_error *err)
{
    for (size_t i = 0; i < res->n_entries; i++) {
        if (res->entries[i]->seq < 1 ||
            (i > 0 && res->entries[i]->seq <= res->entries[i - 1]->seq)) {
            rerror_set(err, RITRA_E_PROTOCOL, "AuditPull entry %zu is out of chain order", i);
            return -1;
        }
    }
    if (res->n_entries > 0 && res->next_seq <= res->entries[res->n_entries - 1]->seq) {
        rerror_set(err, RITRA_E_PROTOCOL, "AuditPull next_seq %lld does not follow its entries",
                   (long long)res->next_seq);
        return -1;
    }
    return 0;
}

int ritra_audit_pull(struct ritra_conn *c, const Ritra__AuditPullRequest *q, Ritra__Response **out,
                     struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__AuditPullRequest all = RITRA__AUDIT_PULL_REQUEST__INIT;
    Ritra__Response *resp = NULL;
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (out == NULL) {
        rerror_set(err, RITRA_E_USAGE, "ritra_audit_pull: NULL argument");
        return -1;
    }
    *out = NULL;
    req.op_case = RITRA__REQUEST__OP_AUDIT_PULL;
    req.audit_pull = (Ritra__AuditPullRequest *)(q != NULL ? q : &all);
    if (ritra_call(c, &req, &resp, err) < 0)
        return -1;
    if (ritra_check_response(&req, resp, err) < 0 || pull_result_sane(resp->audit_pull, err) < 0) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    *out = resp;
    return 0;
}

/* ---- the chain hash ---- */

static const char *str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* A netstring "<length>:<bytes>," whose bytes are parts[0..n) joined by
 * sep (sep NULL: concatenated). */
static int put_netstring(EVP_MD_CTX *md, const char *const *parts, size_t n, const char *sep)
{
    size_t len = 0, seplen = sep != NULL ? strlen(sep) : 0;
    char head[32];
    int hl;

    for (size_t i = 0; i < n; i++)
        len += strlen(str_or_empty(parts[i])) + (i > 0 ? seplen : 0);
    hl = snprintf(head, sizeof(head), "%zu:", len);
    if (hl < 0 || EVP_DigestUpdate(md, head, (size_t)hl) != 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = str_or_empty(parts[i]);

        if ((i > 0 && seplen > 0 && EVP_DigestUpdate(md, sep, seplen) != 1) ||
            EVP_DigestUpdate(md, p, strlen(p)) != 1)
            return -1;
    }
    return EVP_DigestUpdate(md, ",", 1) == 1 ? 0 : -1;
}

static int put_text(EVP_MD_CTX *md, const char *s)
{
    return put_netstring(md, &s, 1, NULL);
}

int ritra_audit_entry_hash(const Ritra__AuditEntry *e, const uint8_t prev[RITRA_AUDIT_HASH_LEN],
                           uint8_t out[RITRA_AUDIT_HASH_LEN])
{
    EVP_MD_CTX *md;
    char seq[32], records[16], request_id[32];
    unsigned int outlen = 0;
    int rc = -1;

    if (e == NULL || prev == NULL || out == NULL)
        return -1;
    /* Decimal as PostgreSQL's ::text prints them. */
    snprintf(seq, sizeof(seq), "%lld", (long long)e->seq);
    snprintf(records, sizeof(records), "%ld", (long)e->records);
    snprintf(request_id, sizeof(request_id), "%llu", (unsigned long long)e->request_id);
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, prev, RITRA_AUDIT_HASH_LEN) != 1)
        goto out;
    /* The order of ritra_audit_canonical(); any change is a new version tag. */
    if (put_text(md, "ritra-audit-v1") < 0 || put_text(md, seq) < 0 || put_text(md, e->time) < 0 ||
        put_text(md, e->agency) < 0 || put_text(md, e->cert_fingerprint) < 0 ||
        put_text(md, e->actor) < 0 || put_text(md, e->operation) < 0 ||
        put_netstring(md, (const char *const *)e->case_ids, e->n_case_ids, ",") < 0 ||
        put_text(md, e->details) < 0 || put_text(md, e->outcome) < 0 || put_text(md, records) < 0 ||
        put_text(md, e->visibility) < 0 || put_text(md, request_id) < 0)
        goto out;
    if (EVP_DigestFinal_ex(md, out, &outlen) == 1 && outlen == RITRA_AUDIT_HASH_LEN)
        rc = 0;
out:
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return rc;
}

/* ---- hex ---- */

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int ritra_audit_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    if (hex == NULL || strlen(hex) != 2 * len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void ritra_audit_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- the public key and checkpoints ---- */

struct ritra_audit_key *ritra_audit_key_load(const char *path, struct ritra_error *err)
{
    struct ritra_audit_key *k = NULL;
    struct ritra_error scratch;
    unsigned char *der = NULL, md[32];
    char full[65];
    FILE *f;
    int len;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (path == NULL) {
        rerror_set(err, RITRA_E_USAGE, "ritra_audit_key_load: NULL argument");
        return NULL;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        rerror_set(err, RITRA_E_USAGE, "%s: cannot open", path);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        fclose(f);
        rerror_set(err, RITRA_E_NOMEM, "out of memory");
        return NULL;
    }
    k->pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (k->pkey == NULL || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519) {
        rerror_set(err, RITRA_E_USAGE, "%s: not an Ed25519 public key (PEM)", path);
        goto fail;
    }
    /* The server names its key the same way (server/audit_chain.c). */
    len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0 || EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1) {
        rerror_set(err, RITRA_E_USAGE, "%s: cannot encode the public key", path);
        goto fail;
    }
    ritra_audit_hex_encode(md, sizeof(md), full);
    memcpy(k->key_id, full, RITRA_AUDIT_KEY_ID_LEN);
    OPENSSL_free(der);
    return k;
fail:
    OPENSSL_free(der);
    ERR_clear_error();
    ritra_audit_key_free(k);
    return NULL;
}

const char *ritra_audit_key_id(const struct ritra_audit_key *key)
{
    return key != NULL ? key->key_id : "";
}

void ritra_audit_key_free(struct ritra_audit_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

int ritra_audit_verify_checkpoint(const Ritra__AuditCheckpoint *cp,
                                  const struct ritra_audit_key *key, struct ritra_error *err)
{
    struct ritra_error scratch;
    uint8_t hash[RITRA_AUDIT_HASH_LEN], sig[CHECKPOINT_SIG_LEN];
    char msg[128];
    EVP_MD_CTX *md;
    int n, ok;

    if (err == NULL)
        err = &scratch;
    rerror_clear(err);
    if (cp == NULL || key == NULL) {
        rerror_set(err, RITRA_E_USAGE, "ritra_audit_verify_checkpoint: NULL argument");
        return -1;
    }
    if (cp->seq < 1 || ritra_audit_hex_decode(cp->hash, hash, sizeof(hash)) < 0) {
        rerror_set(err, RITRA_E_PROTOCOL, "checkpoint %lld: malformed seq or hash",
                   (long long)cp->seq);
        return -1;
    }
    if (strcmp(str_or_empty(cp->key_id), key->key_id) != 0) {
        rerror_set(err, RITRA_E_PROTOCOL,
                   "checkpoint %lld: signed with key %.32s, not with this public key (%s)",
                   (long long)cp->seq, str_or_empty(cp->key_id), key->key_id);
        return -1;
    }
    if (ritra_audit_hex_decode(cp->signature, sig, sizeof(sig)) < 0) {
        rerror_set(err, RITRA_E_PROTOCOL, "checkpoint %lld: malformed signature",
                   (long long)cp->seq);
        return -1;
    }
    /* The signed message carries the hash as the server wrote it: lowercase. */
    n = snprintf(msg, sizeof(msg), "ritra-checkpoint-v1\n%lld\n%s\n", (long long)cp->seq, cp->hash);
    md = EVP_MD_CTX_new();
    ok = md != NULL && n > 0 && (size_t)n < sizeof(msg) &&
         EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
         EVP_DigestVerify(md, sig, sizeof(sig), (const unsigned char *)msg, (size_t)n) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (!ok) {
        rerror_set(err, RITRA_E_PROTOCOL, "checkpoint %lld: the signature does not verify",
                   (long long)cp->seq);
        return -1;
    }
    return 0;
}

/* ---- the verifier ---- */

struct vcheckpoint {
    int64_t seq;
    uint8_t hash[RITRA_AUDIT_HASH_LEN];
    int signed_ok;
    char why[200]; /* !signed_ok: the reason */
};

struct ritra_audit_verifier {
    const struct ritra_audit_key **keys;
    size_t n_keys;
    struct vcheckpoint *cps;
    size_t n_cps, cap_cps;
    size_t next_cp;       /* the first checkpoint above the last entry checked */
    int64_t last_good_cp; /* seq of the last checkpoint that matched, 0 none */
    uint8_t prev[RITRA_AUDIT_HASH_LEN];
    int finished;
    struct ritra_audit_verdict v;
};

struct ritra_audit_verifier *ritra_audit_verifier_new(const struct ritra_audit_key *const *keys,
                                                      size_t n)
{
    struct ritra_audit_verifier *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    v->keys = calloc(n > 0 ? n : 1, sizeof(*v->keys));
    if (v->keys == NULL) {
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v->keys[i] = keys[i];
    v->n_keys = n;
    v->v.ok = 1;
    return v;
}

void ritra_audit_verifier_free(struct ritra_audit_verifier *v)
{
    if (v == NULL)
        return;
    free(v->keys);
    free(v->cps);
    free(v);
}

static const struct ritra_audit_key *key_named(const struct ritra_audit_verifier *v,
                                               const char *key_id)
{
    for (size_t i = 0; i < v->n_keys; i++)
        if (strcmp(v->keys[i]->key_id, str_or_empty(key_id)) == 0)
            return v->keys[i];
    return NULL;
}

int ritra_audit_verifier_add_checkpoint(struct ritra_audit_verifier *v,
                                        const Ritra__AuditCheckpoint *cp)
{
    const struct ritra_audit_key *key;
    struct vcheckpoint *c;
    struct ritra_error err;

    if (v == NULL || cp == NULL || v->v.entries > 0 || v->finished)
        return -1;
    if (v->n_cps == v->cap_cps) {
        size_t cap = v->cap_cps ? 2 * v->cap_cps : 64;
        struct vcheckpoint *nc = realloc(v->cps, cap * sizeof(*nc));

        if (nc == NULL)
            return -1;
        v->cps = nc;
        v->cap_cps = cap;
    }
    c = &v->cps[v->n_cps++];
    memset(c, 0, sizeof(*c));
    c->seq = cp->seq;
    key = key_named(v, cp->key_id);
    if (key == NULL) {
        snprintf(c->why, sizeof(c->why),
                 "the checkpoint is signed with key %.32s, which is not among the public keys "
                 "given",
                 str_or_empty(cp->key_id));
    } else if (ritra_audit_verify_checkpoint(cp, key, &err) < 0) {
        rerror_copy_text(c->why, sizeof(c->why), err.message, 0);
    } else {
        /* Verified, so the hash is well-formed. */
        c->signed_ok = ritra_audit_hex_decode(cp->hash, c->hash, sizeof(c->hash)) == 0;
    }
    return 0;
}

static int cp_order(const void *a, const void *b)
{
    const struct vcheckpoint *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int fail(struct ritra_audit_verifier *v, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ritra_audit_verifier *v, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    v->v.ok = 0;
    v->v.bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->v.reason, sizeof(v->v.reason), fmt, ap);
    va_end(ap);
    return -1;
}

/* The checkpoint at c->seq against the recomputed chain hash there. */
static int check_cp(struct ritra_audit_verifier *v, const struct vcheckpoint *c,
                    const uint8_t hash[RITRA_AUDIT_HASH_LEN])
{
    if (!c->signed_ok)
        return fail(v, c->seq, "%s", c->why);
    if (memcmp(c->hash, hash, RITRA_AUDIT_HASH_LEN) != 0) {
        if (v->last_good_cp > 0)
            return fail(v, c->seq,
                        "the chain hash differs from the signed checkpoint: an entry after seq "
                        "%lld (the previous checkpoint) was changed, removed or inserted",
                        (long long)v->last_good_cp);
        return fail(v, c->seq,
                    "the chain hash differs from the signed checkpoint: an entry up to here was "
                    "changed, removed or inserted");
    }
    v->last_good_cp = c->seq;
    v->v.checkpoints++;
    v->v.signed_seq = c->seq;
    return 0;
}

/* The first entry fixes where the walk starts. */
static int start_walk(struct ritra_audit_verifier *v, const Ritra__AuditEntry *e)
{
    if (v->n_cps > 1)
        qsort(v->cps, v->n_cps, sizeof(*v->cps), cp_order);
    v->v.first_seq = e->seq;
    if (e->seq < 1)
        return fail(v, e->seq, "seq %lld is not a chain position", (long long)e->seq);
    if (e->seq == 1) {
        memset(v->prev, 0, sizeof(v->prev));
    } else if (ritra_audit_hex_decode(e->prev_hash, v->prev, sizeof(v->prev)) < 0) {
        return fail(v, e->seq, "prev_hash is not 64 hex digits");
    }
    /* Checkpoints before the stretch say nothing about it (though a false
     * one still fails), except the one right before: the first entry's
     * prev_hash must be its hash. */
    for (; v->next_cp < v->n_cps && v->cps[v->next_cp].seq < e->seq; v->next_cp++) {
        const struct vcheckpoint *c = &v->cps[v->next_cp];

        if (!c->signed_ok)
            return fail(v, c->seq, "%s", c->why);
        if (c->seq != e->seq - 1)
            continue;
        if (memcmp(c->hash, v->prev, sizeof(v->prev)) != 0)
            return fail(v, e->seq, "prev_hash differs from the signed checkpoint at seq %lld",
                        (long long)c->seq);
        if (check_cp(v, c, v->prev) < 0)
            return -1;
    }
    return 0;
}

int ritra_audit_verifier_add_entry(struct ritra_audit_verifier *v, const Ritra__AuditEntry *e)
{
    uint8_t stated[RITRA_AUDIT_HASH_LEN], hash[RITRA_AUDIT_HASH_LEN];
    int64_t want;

    if (v == NULL || e == NULL || v->finished || !v->v.ok)
        return -1;
    want = v->v.last_seq + 1;
    if (v->v.entries++ == 0) {
        if (start_walk(v, e) < 0)
            return -1;
    } else if (e->seq != want) {
        return fail(v, want, "%s: expected seq %lld, found seq %lld",
                    e->seq > want ? "entries are missing" : "out of order or repeated",
                    (long long)want, (long long)e->seq);
    }
    if (ritra_audit_hex_decode(e->prev_hash, stated, sizeof(stated)) < 0)
        return fail(v, e->seq, "prev_hash is not 64 hex digits");
    if (memcmp(stated, v->prev, sizeof(stated)) != 0)
        return fail(v, e->seq,
                    e->seq == 1 ? "prev_hash of the first entry is not zero"
                                : "prev_hash does not match the hash of the entry before");
    if (ritra_audit_entry_hash(e, v->prev, hash) < 0)
        return fail(v, e->seq, "cannot compute the hash");
    if (ritra_audit_hex_decode(e->hash, stated, sizeof(stated)) < 0)
        return fail(v, e->seq, "hash is not 64 hex digits");
    if (memcmp(stated, hash, sizeof(hash)) != 0)
        return fail(v, e->seq, "hash does not match the entry's content");
    for (; v->next_cp < v->n_cps && v->cps[v->next_cp].seq == e->seq; v->next_cp++)
        if (check_cp(v, &v->cps[v->next_cp], hash) < 0)
            return -1;
    memcpy(v->prev, hash, sizeof(hash));
    v->v.last_seq = e->seq;
    return 0;
}

int ritra_audit_verifier_finish(struct ritra_audit_verifier *v, struct ritra_audit_verdict *out)
{
    if (v == NULL)
        return -1;
    if (!v->finished && v->v.ok) {
        if (v->v.entries == 0 && v->n_cps > 1)
            qsort(v->cps, v->n_cps, sizeof(*v->cps), cp_order);
        /* A checkpoint beyond the last entry: the trail was cut short,
         * unless the checkpoint itself is false. */
        if (v->next_cp < v->n_cps) {
            const struct vcheckpoint *c = &v->cps[v->next_cp];
            int64_t top = c->seq;

            for (size_t i = v->next_cp; i < v->n_cps; i++)
                if (v->cps[i].signed_ok)
                    top = v->cps[i].seq;
            if (!c->signed_ok)
                fail(v, c->seq, "%s", c->why);
            else if (v->v.entries == 0)
                fail(v, 1, "no entries, but a signed checkpoint covers seq %lld", (long long)top);
            else
                fail(v, v->v.last_seq + 1,
                     "the trail ends at seq %lld but a signed checkpoint covers seq %lld: "
                     "entries were removed from its end",
                     (long long)v->v.last_seq, (long long)top);
        }
    }
    v->finished = 1;
    if (out != NULL)
        *out = v->v;
    return v->v.ok ? 0 : -1;
}
