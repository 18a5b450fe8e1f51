#include "audit_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"

#define CHAIN_BATCH 5000

struct audit_chain {
    struct db_pool *db;
    EVP_PKEY *key;
    char key_id[17];
    struct event *timer;
    int running; /* a chain or checkpoint transaction is in flight */
};

size_t audit_checkpoint_message(long long seq, const char *hash_hex, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "ritra-checkpoint-v1\n%lld\n%s\n", seq, hash_hex);

    return n < 0 ? 0 : (size_t)n;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void checkpointed(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct audit_chain *ac = arg;

    ac->running = 0;
    if (db != DB_OK)
        log_msg(LOG_ERROR, "audit_checkpoint_failed", db_txn_error(t));
}

/* Signs the head and stores the checkpoint. */
static void sign_head(struct audit_chain *ac, const char *seq, const char *hash_hex)
{
    static const char sql[] =
        "SELECT ritra_audit_checkpoint($1::bigint, decode($2, 'hex'), decode($3, 'hex'), $4)";
    char msg[160], sig_hex[2 * 64 + 1];
    unsigned char sig[64];
    size_t siglen = sizeof(sig);
    size_t msglen = audit_checkpoint_message(strtoll(seq, NULL, 10), hash_hex, msg, sizeof(msg));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct db_txn *t;
    const char *values[4];

    if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, ac->key) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, msglen) != 1) {
        EVP_MD_CTX_free(md);
        ERR_clear_error();
        log_msg(LOG_ERROR, "audit_sign_failed", "could not sign the chain head");
        ac->running = 0;
        return;
    }
    EVP_MD_CTX_free(md);
    hex(sig, siglen, sig_hex);
    values[0] = seq;
    values[1] = hash_hex;
    values[2] = sig_hex;
    values[3] = ac->key_id;
    t = db_txn_new();
    if (db_txn_add(t, sql, 4, values) < 0)
        abort();
    db_submit(ac->db, t, checkpointed, ac);
}

static void chained(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct audit_chain *ac = arg;
    const PGresult *r = db_txn_result(t, 0);

    if (db != DB_OK || r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        if (db != DB_UNAVAILABLE)
            log_msg(LOG_ERROR, "audit_chain_failed", db_txn_error(t));
        ac->running = 0;
        return;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") == 0 || ac->key == NULL) {
        ac->running = 0; /* nothing new, or nobody to sign */
        return;
    }
    sign_head(ac, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    struct audit_chain *ac = arg;
    struct db_txn *t;
    char batch[16];
    const char *values[1] = {batch};

    (void)fd;
    (void)what;
    if (ac->running || db_pool_up(ac->db) == 0)
        return;
    snprintf(batch, sizeof(batch), "%d", CHAIN_BATCH);
    t = db_txn_new();
    if (db_txn_add(t,
                   "SELECT chained, head_seq, encode(head_hash, 'hex')"
                   " FROM ritra_audit_chain($1::integer)",
                   1, values) < 0)
        abort();
    ac->running = 1;
    db_submit(ac->db, t, chained, ac);
}

static int load_key(struct audit_chain *ac, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    unsigned char *der = NULL, md[32];
    char full[65];
    int len;

    if (f == NULL) {
        snprintf(err, errlen, "audit_signing_key %s: cannot open", path);
        return -1;
    }
    ac->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (ac->key == NULL || EVP_PKEY_get_id(ac->key) != EVP_PKEY_ED25519) {
        ERR_clear_error();
        snprintf(err, errlen, "audit_signing_key %s: not an Ed25519 private key (PEM)", path);
        return -1;
    }
    /* key_id: what verifiers match their public key file against. */
    len = i2d_PUBKEY(ac->key, &der);
    if (len <= 0 || EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1) {
        OPENSSL_free(der);
        ERR_clear_error();
        snprintf(err, errlen, "audit_signing_key %s: cannot derive the public key", path);
        return -1;
    }
    OPENSSL_free(der);
    hex(md, sizeof(md), full);
    memcpy(ac->key_id, full, 16);
    ac->key_id[16] = '\0';
    return 0;
}

struct audit_chain *audit_chain_new(struct db_pool *db, const char *key_path, int interval_ms,
                                    char *err, size_t errlen)
{
    struct audit_chain *ac = calloc(1, sizeof(*ac));
    struct timeval every = {interval_ms / 1000, (interval_ms % 1000) * 1000};

    if (ac == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ac->db = db;
    if (key_path != NULL && load_key(ac, key_path, err, errlen) < 0) {
        audit_chain_free(ac);
        return NULL;
    }
    if (key_path == NULL)
        log_msg(LOG_WARN, "audit_unsigned",
                "no audit_signing_key: the audit chain is kept but no checkpoint is signed");
    ac->timer = event_new(db_pool_base(db), -1, EV_PERSIST, tick, ac);
    if (ac->timer == NULL || event_add(ac->timer, &every) < 0) {
        snprintf(err, errlen, "cannot create the audit chain timer");
        audit_chain_free(ac);
        return NULL;
    }
    return ac;
}

void audit_chain_free(struct audit_chain *ac)
{
    if (ac == NULL)
        return;
    if (ac->timer != NULL)
        event_free(ac->timer);
    EVP_PKEY_free(ac->key);
    free(ac);
}
