/*
 * One client connection: TLS handshake, agency identification, framing,
 * deadlines and backpressure, as an explicit state machine. It hands whole
 * frames to the dispatcher and takes encoded replies back; it knows nothing
 * of what the requests mean.
 */
#ifndef RITRA_CONN_H
#define RITRA_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "agency.h"
#include "ritra.pb-c.h"

struct server;
struct conn;

/* Takes over fd and starts the TLS handshake. Returns NULL (fd closed) on failure. */
struct conn *conn_new(struct server *srv, SSL_CTX *ctx, evutil_socket_t fd,
                      const struct sockaddr *peer, int peerlen, uint64_t id);

/* References held by in-flight requests keep the struct (not the socket) alive. */
void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* True while replies can still be delivered. */
bool conn_open(const struct conn *c);

/* The identified agency (valid once a request is being dispatched). */
const struct agency *conn_agency(const struct conn *c);
uint64_t conn_id(const struct conn *c);
const char *conn_peer(const struct conn *c);

/* Queues one encoded Response. Silently dropped if the connection is gone.
 * resp is not freed. */
void conn_send_response(struct conn *c, const Ritra__Response *resp);

/* Queues an already packed frame (header included). Dropped if gone. */
void conn_send_frame(struct conn *c, const uint8_t *frame, size_t len);

/* A request dispatched on c has been answered: frees its in-flight slot. */
void conn_request_done(struct conn *c);

/* Sends a connection-level error (Response id 0) if code is not 0, then
 * closes once the output has drained. */
void conn_close(struct conn *c, Ritra__StatusCode code, const char *reason);

/* Closes at once, without flushing (server exit). */
void conn_abort(struct conn *c);

/* Stops reading new requests (drain); closes at once if nothing is in flight. */
void conn_drain(struct conn *c);

#endif
