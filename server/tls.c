#include "tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"

/* Forward-secret AEAD suites only, for deployments that must allow 1.2. */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"

static int verify_failure_idx = -1;
static int refused_fp_idx = -1;

static void free_fp(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    OPENSSL_free(ptr);
}

const char *tls_refused_fingerprint(SSL *ssl)
{
    if (refused_fp_idx < 0)
        return NULL;
    return SSL_get_ex_data(ssl, refused_fp_idx);
}

void tls_last_error(char *out, size_t outlen)
{
    unsigned long e = ERR_peek_error();

    if (e == 0)
        snprintf(out, outlen, "unknown TLS error");
    else
        ERR_error_string_n(e, out, outlen);
    ERR_clear_error();
}

const char *tls_verify_failure(SSL *ssl)
{
    if (verify_failure_idx < 0)
        return NULL;
    return SSL_get_ex_data(ssl, verify_failure_idx);
}

/*
 * Keeps OpenSSL's verdict but remembers why it refused, so the connection
 * layer can log "certificate revoked" instead of a bare handshake error.
 * The string is static (X509_verify_cert_error_string), never freed.
 */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl;

    if (ok)
        return 1;
    ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl != NULL && verify_failure_idx >= 0 && SSL_get_ex_data(ssl, verify_failure_idx) == NULL)
        SSL_set_ex_data(ssl, verify_failure_idx,
                        (void *)X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    /* Remember who was refused, for the audit trail. */
    if (ssl != NULL && refused_fp_idx >= 0 && SSL_get_ex_data(ssl, refused_fp_idx) == NULL) {
        X509 *leaf = X509_STORE_CTX_get0_cert(store);
        char fp[TLS_FINGERPRINT_HEX];
        if (leaf != NULL && tls_cert_fingerprint(leaf, fp) == 0)
            SSL_set_ex_data(ssl, refused_fp_idx, OPENSSL_strdup(fp));
    }
    return 0;
}

static int load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    char why[256];

    if (lookup == NULL || X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
        tls_last_error(why, sizeof(why));
        snprintf(err, errlen, "tls_crl %s: %s", path, why);
        return -1;
    }
    /* Leaf only: the CA's own revocation is the national PKI's business. */
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return 0;
}

SSL_CTX *tls_server_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx;
    char why[256];

    if (verify_failure_idx < 0)
        verify_failure_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (refused_fp_idx < 0)
        refused_fp_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_fp);
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_last_error(why, sizeof(why));
        snprintf(err, errlen, "SSL_CTX_new: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx,
                                  cfg->tls_min_version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        snprintf(err, errlen, "cannot set TLS 1.2 cipher list");
        goto fail;
    }
    /*
     * No renegotiation, no compression; a peer that vanishes without
     * close_notify is an ordinary close here because the length prefix
     * already detects truncated frames.
     */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /*
     * Clients keep long-lived connections, so resumption buys little while
     * each TLS 1.3 ticket costs ~0.14 ms of CPU per handshake: none by
     * default, configurable.
     */
    SSL_CTX_set_num_tickets(ctx, (size_t)cfg->tls_session_tickets);
    if (cfg->tls_session_tickets == 0) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else {
        static const unsigned char sid_ctx[] = "ritra";
        SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        tls_last_error(why, sizeof(why));
        snprintf(err, errlen, "tls_cert %s: %s", cfg->tls_cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        tls_last_error(why, sizeof(why));
        snprintf(err, errlen, "tls_key %s: %s", cfg->tls_key, why);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1) {
        tls_last_error(why, sizeof(why));
        snprintf(err, errlen, "tls_ca %s: %s", cfg->tls_ca, why);
        goto fail;
    }
    /* Tell clients which CAs we accept so they pick the right certificate. */
    {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_ca);
        if (names == NULL) {
            tls_last_error(why, sizeof(why));
            snprintf(err, errlen, "tls_ca %s: %s", cfg->tls_ca, why);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (cfg->tls_crl != NULL && load_crl(ctx, cfg->tls_crl, err, errlen) < 0)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_verify_depth(ctx, 4);
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_cert_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";

    if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32) {
        ERR_clear_error();
        return -1;
    }
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

int tls_cert_subject(X509 *cert, char *out, size_t outlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n;

    if (b == NULL || outlen == 0)
        goto fail;
    if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
        goto fail;
    n = BIO_read(b, out, (int)outlen - 1);
    if (n < 0)
        n = 0;
    out[n] = '\0';
    BIO_free(b);
    return 0;
fail:
    BIO_free(b);
    ERR_clear_error();
    return -1;
}
