/*
 * The server process: listener, TLS context, database pool, the set of
 * live connections, and the signals that drain (SIGTERM/SIGINT) or reload
 * (SIGHUP) it. Connections reach shared state only through these calls.
 */
#ifndef RITRA_SERVER_H
#define RITRA_SERVER_H

#include <stdbool.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "db.h"

struct server;
struct conn;

/* Reads certificates, binds the listener. Returns NULL with a reason in err. */
struct server *server_new(const struct config *cfg, char *err, size_t errlen);
void server_free(struct server *s);
/* Runs the loop until drained. Returns 0 on a clean exit. */
int server_run(struct server *s);

const struct config *server_config(const struct server *s);
struct event_base *server_base(const struct server *s);
struct db_pool *server_db(const struct server *s);
struct matcher *server_matcher(const struct server *s);

/* Counts a connection against its agency's limit; false when over it. */
bool server_agency_acquire(struct server *s, const char *code) __attribute__((warn_unused_result));
void server_agency_release(struct server *s, const char *code);

/* Called by conn when it is fully closed and unlinked. */
void server_conn_gone(struct server *s, struct conn *c);
/* True once SIGTERM arrived: connections stop taking new requests. */
bool server_draining(const struct server *s);

#endif
