/*
 * Length-prefixed framing shared by server and client: a 4-byte big-endian
 * unsigned length, then that many bytes of one protobuf message.
 *
 * Nothing here knows about sockets or TLS; callers feed bytes in and take
 * whole frames out. Every length is checked against a caller-supplied cap
 * before any allocation is sized from it.
 */
#ifndef RITRA_FRAME_H
#define RITRA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define FRAME_HEADER_LEN 4
/* Hard ceiling of the protocol; deployments configure a smaller cap. */
#define FRAME_MAX_LEN (64u * 1024u * 1024u)

enum frame_status {
    FRAME_NEED_MORE = 0, /* not enough bytes yet for a whole frame */
    FRAME_READY = 1,     /* a whole frame is available */
    FRAME_TOO_LARGE = 2, /* the announced length exceeds the cap */
};

/* Reads the header at buf (avail bytes). On FRAME_READY and FRAME_NEED_MORE
 * with avail >= 4, *payload_len is the announced length. */
enum frame_status frame_peek(const uint8_t *buf, size_t avail, uint32_t max_len,
                             uint32_t *payload_len);

/* Writes the 4-byte header for a payload of len bytes. */
void frame_put_header(uint8_t out[FRAME_HEADER_LEN], uint32_t len);

/* Packs msg as one frame (header + payload) into a fresh buffer the caller
 * frees. Returns 0, or -1 when the message exceeds max_len or packing
 * disagrees with get_packed_size (a protobuf-c bug). */
int frame_pack(const ProtobufCMessage *msg, uint32_t max_len, uint8_t **out, size_t *out_len);

/*
 * A reader accumulates bytes from a stream and hands out whole frames.
 * The buffer grows only as far as the largest accepted frame.
 */
struct frame_reader;

/* Never returns NULL (aborts on out-of-memory at creation). */
struct frame_reader *frame_reader_new(uint32_t max_len);
void frame_reader_free(struct frame_reader *r);

/* Appends len bytes. Returns 0, or -1 when memory cannot be had. */
int frame_reader_feed(struct frame_reader *r, const void *data, size_t len);

/* Takes the next whole frame. On FRAME_READY, *payload points into the
 * reader and stays valid until the next feed/next/free call. After
 * FRAME_TOO_LARGE the stream is unusable (the framing is lost). */
enum frame_status frame_reader_next(struct frame_reader *r, const uint8_t **payload, uint32_t *len);

/* Bytes buffered but not yet returned as frames. */
size_t frame_reader_pending(const struct frame_reader *r);

#endif
