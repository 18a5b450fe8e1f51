/*
 * libritra's transport (internal, not installed): one non-blocking TCP
 * socket with TLS on top, and the mapping of socket and TLS failures to
 * struct ritra_error. The protocol layer (ritra.c) sees bytes, "would
 * block" and errors; it never sees OpenSSL.
 *
 * Every function leaves OpenSSL's thread-local error queue empty, so one
 * call's leftovers cannot be blamed on the next.
 */
#ifndef RITRA_TRANSPORT_H
#define RITRA_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "ritra.h"

struct transport;

/* Resolves o->addr, connects and completes the TLS handshake (server
 * certificate checked against o->ca_file and the host name or IP) within
 * o->connect_timeout_ms. Returns a transport the caller frees with
 * transport_free(), or NULL with *err filled. */
struct transport *transport_open(const struct ritra_opts *o, struct ritra_error *err);

/* With graceful, tries once, without waiting, to send close_notify; then
 * closes the socket and frees everything. NULL-safe. */
void transport_free(struct transport *t, int graceful);

/* Reads at most size bytes without blocking. Returns the count (> 0); 0
 * when nothing can be read now, with *want the poll events to wait for
 * (TLS may need to write in order to read); or -1 with *err filled, for
 * example with the server's refusal of our certificate or RITRA_E_CLOSED. */
ssize_t transport_read(struct transport *t, void *buf, size_t size, short *want,
                       struct ritra_error *err);

/* Writes at most len bytes without blocking; returns as transport_read. */
ssize_t transport_write(struct transport *t, const void *buf, size_t len, short *want,
                        struct ritra_error *err);

/* Waits until the socket is ready for events or timeout_ms passes. Returns
 * 1 when ready, 0 at the timeout, -1 on a poll error (errno set). */
int transport_wait(struct transport *t, short events, int timeout_ms);

/* The address as the caller gave it, for messages. Never NULL. */
const char *transport_addr(const struct transport *t);

#endif
