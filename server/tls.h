/*
 * TLS contexts for the listener. A context is built once from the
 * configuration (certificates, keys, CA bundle and CRL are read once, not
 * per handshake) and replaced wholesale on reload: connections keep a
 * reference to the SSL_CTX they were accepted with, so a reload never
 * disturbs them.
 */
#ifndef RITRA_TLS_H
#define RITRA_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

#define TLS_FINGERPRINT_HEX 65 /* 64 hex digits + NUL */

/* Builds a server context requiring a client certificate. Returns NULL with
 * a reason in err (and the OpenSSL error queue cleared). */
SSL_CTX *tls_server_ctx_new(const struct config *cfg, char *err, size_t errlen);

/* SHA-256 of the certificate's DER encoding as lowercase hex. Returns 0 or -1. */
int tls_cert_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_HEX]);

/* The subject as a one-line string (RFC 2253). Returns 0 or -1. */
int tls_cert_subject(X509 *cert, char *out, size_t outlen);

/* Copies the first OpenSSL error's text into out and clears the queue. */
void tls_last_error(char *out, size_t outlen);

/* Set by the verify callback: why the peer's chain was refused, for the log. */
const char *tls_verify_failure(SSL *ssl);

/* The SHA-256 fingerprint of a client certificate the handshake refused,
 * when it got as far as seeing one (NULL otherwise). */
const char *tls_refused_fingerprint(SSL *ssl);

#endif
