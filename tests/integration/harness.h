/*
 * Integration-test harness: a real stack per test program. It makes a
 * fresh PKI (certs/mkpki.sh), a throwaway PostgreSQL cluster
 * (tools/pg-cluster.sh), applies the migrations, registers the demo
 * agencies with ritra-admin, and runs the real ritra-server on a free
 * loopback port. Tests then talk to it through libritra, or through raw
 * TLS when they need to misbehave.
 */
#ifndef RITRA_HARNESS_H
#define RITRA_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "ritra.h"

struct harness {
    char dir[256];    /* everything lives below this temporary folder */
    char pki[300];    /* CA, server and agency certificates */
    char pg_dir[300]; /* the PostgreSQL cluster */
    char conf[300];   /* the server's configuration file */
    char log[300];    /* the server's stderr */
    char addr[64];    /* 127.0.0.1:PORT */
    char db_admin[512];
    char db_app[512];
    int port;
    pid_t server;
};

/* Builds the whole stack; extra_conf lines are appended to the server's
 * configuration (NULL for none). Returns 0 or -1 (reason on stderr). */
int harness_start(struct harness *h, const char *extra_conf);
/* Stops server and database and removes the folder. */
void harness_stop(struct harness *h);

/* Starts the server (again) and waits until it listens. */
int harness_server_start(struct harness *h);
/* Sends sig and waits up to timeout_ms for the exit; returns the exit
 * status (as from waitpid), or -1 if it did not exit. */
int harness_server_stop(struct harness *h, int sig, int timeout_ms);

/* tools/pg-cluster.sh ACTION on the harness cluster ("stop", "start", "restart"). */
int harness_pg(struct harness *h, const char *action);

/* Runs ritra-admin --db <superuser> ARGS...; returns its exit code. */
int harness_admin(struct harness *h, const char *const *args);

/* Runs SQL as the superuser (blocking libpq); returns 0 on success. */
int harness_sql(struct harness *h, const char *sql);

/* Fills opts for agency cert name (e.g. "FGN", "revoked", NULL for no
 * client certificate). Paths stay valid while h lives. */
void harness_opts(struct harness *h, const char *cert, struct ritra_opts *opts);
/* Connects as cert; NULL with err filled on failure. */
struct ritra_conn *harness_connect(struct harness *h, const char *cert, struct ritra_error *err);

/* A raw blocking TLS connection as cert, for tests that misbehave on the
 * wire. Returns NULL if the handshake fails. Free with harness_raw_close. */
SSL *harness_raw_connect(struct harness *h, const char *cert);
void harness_raw_close(SSL *ssl);
/* Reads one frame with a timeout; returns the decoded Response (free with
 * ritra__response__free_unpacked) or NULL on EOF, error or timeout. */
Ritra__Response *harness_raw_read(SSL *ssl, int timeout_ms);
/* True when the peer closed (EOF or alert) within timeout_ms. */
bool harness_raw_closed(SSL *ssl, int timeout_ms);

/* Counts lines of the server log containing needle. */
int harness_log_count(struct harness *h, const char *needle);

/* Milliseconds on a monotonic clock. */
long long harness_now_ms(void);

#endif
