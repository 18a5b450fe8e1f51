#include "frame.h"

#include <stdlib.h>
#include <string.h>

enum frame_status frame_peek(const uint8_t *buf, size_t avail, uint32_t max_len,
                             uint32_t *payload_len)
{
    uint32_t len;

    if (avail < FRAME_HEADER_LEN)
        return FRAME_NEED_MORE;
    len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    *payload_len = len;
    if (len > max_len || len > FRAME_MAX_LEN)
        return FRAME_TOO_LARGE;
    if (avail - FRAME_HEADER_LEN < len)
        return FRAME_NEED_MORE;
    return FRAME_READY;
}

void frame_put_header(uint8_t out[FRAME_HEADER_LEN], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

int frame_pack(const ProtobufCMessage *msg, uint32_t max_len, uint8_t **out, size_t *out_len)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf;

    if (size > max_len || size > FRAME_MAX_LEN)
        return -1;
    buf = malloc(FRAME_HEADER_LEN + size);
    if (buf == NULL)
        return -1;
    if (protobuf_c_message_pack(msg, buf + FRAME_HEADER_LEN) != size) {
        free(buf);
        return -1;
    }
    frame_put_header(buf, (uint32_t)size);
    *out = buf;
    *out_len = FRAME_HEADER_LEN + size;
    return 0;
}

struct frame_reader {
    uint8_t *buf;
    size_t cap;   /* allocated */
    size_t start; /* first unconsumed byte */
    size_t end;   /* one past the last buffered byte */
    uint32_t max_len;
};

struct frame_reader *frame_reader_new(uint32_t max_len)
{
    struct frame_reader *r = calloc(1, sizeof(*r));

    if (r == NULL)
        abort();
    r->max_len = max_len;
    return r;
}

void frame_reader_free(struct frame_reader *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r);
}

int frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
    size_t used = r->end - r->start;

    if (len == 0)
        return 0;
    if (r->start > 0 && r->cap - r->end < len) {
        /* Slide the unconsumed tail down before growing. */
        memmove(r->buf, r->buf + r->start, used);
        r->start = 0;
        r->end = used;
    }
    if (r->cap - r->end < len) {
        size_t want = r->cap ? r->cap : 4096;
        uint8_t *nb;

        while (want - r->end < len) {
            if (want > SIZE_MAX / 2)
                return -1;
            want *= 2;
        }
        nb = realloc(r->buf, want);
        if (nb == NULL)
            return -1;
        r->buf = nb;
        r->cap = want;
    }
    memcpy(r->buf + r->end, data, len);
    r->end += len;
    return 0;
}

enum frame_status frame_reader_next(struct frame_reader *r, const uint8_t **payload, uint32_t *len)
{
    uint32_t plen = 0;
    enum frame_status st;

    if (r->end == r->start)
        return FRAME_NEED_MORE;
    st = frame_peek(r->buf + r->start, r->end - r->start, r->max_len, &plen);
    if (st != FRAME_READY)
        return st;
    *payload = r->buf + r->start + FRAME_HEADER_LEN;
    *len = plen;
    r->start += FRAME_HEADER_LEN + plen;
    if (r->start == r->end)
        r->start = r->end = 0;
    return FRAME_READY;
}

size_t frame_reader_pending(const struct frame_reader *r)
{
    return r->end - r->start;
}
