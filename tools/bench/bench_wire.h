/*
 * ritra-bench's own pipelined transport: blocking mutual-TLS 1.3 socket,
 * frames written in bulk and answers read one by one, so every request's
 * send -> reply time can be taken. libritra's ritra_call_batch pipelines
 * too but hands back answers only when the whole batch is in.
 */
#ifndef BENCH_WIRE_H
#define BENCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ritra.pb-c.h"

struct wire_ctx;
struct wire;

/* Loads the CA, client certificate and key (key NULL: read from cert).
 * Returns NULL with err filled. Shared by all connections and threads. */
struct wire_ctx *wire_ctx_new(const char *ca, const char *cert, const char *key, char *err,
                              size_t errlen);
void wire_ctx_free(struct wire_ctx *ctx); /* NULL-safe */

/* Connects to "host:port" (or "[v6]:port") and completes the handshake,
 * checking the server certificate against the CA and the host. NULL with
 * err filled on failure. */
struct wire *wire_open(struct wire_ctx *ctx, const char *addr, char *err, size_t errlen);

/* Sends close_notify, closes and frees. NULL-safe. */
void wire_close(struct wire *w);

/* Writes n ready-made frames (header included) in one go. 0 or -1. */
int wire_write_frames(struct wire *w, uint8_t *const *frames, const size_t *lens, size_t n,
                      char *err, size_t errlen);

/* Takes the next Response, reading from the socket only when no whole
 * frame is buffered. Returns 1 with *resp for the caller to free with
 * ritra__response__free_unpacked(), or -1 with err filled. */
int wire_read_response(struct wire *w, Ritra__Response **resp, char *err, size_t errlen);

/* 1 when a whole frame is already buffered (the next read will not block). */
int wire_has_buffered(const struct wire *w);

#endif
