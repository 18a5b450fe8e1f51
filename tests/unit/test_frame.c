/*
 * Unit tests for proto/frame.c: the length header, frame_peek's limits,
 * the incremental reader and frame_pack. Links only frame.c, the generated
 * protobuf code and protobuf-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "ritra.pb-c.h"

/* ---- allocation accounting ---- */

#ifdef HAVE_LD_WRAP
/* Linked with -Wl,--wrap=malloc,--wrap=realloc: every allocation frame.c
 * makes passes through here, so a test can show none was sized from an
 * untrusted header. */
void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);

static size_t alloc_calls;
static size_t alloc_largest;

void *__wrap_malloc(size_t size)
{
    alloc_calls++;
    if (size > alloc_largest)
        alloc_largest = size;
    return __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
    alloc_calls++;
    if (size > alloc_largest)
        alloc_largest = size;
    return __real_realloc(p, size);
}

static void alloc_reset(void)
{
    alloc_calls = 0;
    alloc_largest = 0;
}
#endif

/* ---- helpers ---- */

static uint8_t payload_byte(size_t frame, size_t offset)
{
    return (uint8_t)(frame * 31 + offset * 7 + 1);
}

/* A stream of n frames with the given payload lengths. */
static uint8_t *make_stream(const uint32_t *lens, size_t n, size_t *total)
{
    size_t size = 0, off = 0;
    uint8_t *buf;

    for (size_t i = 0; i < n; i++)
        size += FRAME_HEADER_LEN + lens[i];
    buf = malloc(size ? size : 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        frame_put_header(buf + off, lens[i]);
        off += FRAME_HEADER_LEN;
        for (uint32_t j = 0; j < lens[i]; j++)
            buf[off++] = payload_byte(i, j);
    }
    *total = size;
    return buf;
}

static void assert_frame(const uint8_t *payload, uint32_t len, size_t index, uint32_t want_len)
{
    assert_int_equal(len, want_len);
    for (uint32_t j = 0; j < len; j++)
        assert_int_equal(payload[j], payload_byte(index, j));
}

/* Takes every ready frame, checking each against the expected sequence;
 * *seen counts frames across calls. */
static void drain_expecting(struct frame_reader *r, const uint32_t *lens, size_t n, size_t *seen)
{
    const uint8_t *payload;
    uint32_t len;
    enum frame_status st;

    while ((st = frame_reader_next(r, &payload, &len)) == FRAME_READY) {
        assert_true(*seen < n);
        assert_frame(payload, len, *seen, lens[*seen]);
        (*seen)++;
    }
    assert_int_equal(st, FRAME_NEED_MORE);
}

/* ---- header and frame_peek ---- */

static void test_header_round_trips_boundary_lengths(void **state)
{
    static const uint32_t lens[] = {0, 1, 255, 256, 65536, 1u << 24, FRAME_MAX_LEN, UINT32_MAX};
    uint8_t hdr[FRAME_HEADER_LEN];
    (void)state;

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint32_t got = 0;
        enum frame_status st;

        frame_put_header(hdr, lens[i]);
        st = frame_peek(hdr, sizeof(hdr), FRAME_MAX_LEN, &got);
        assert_int_equal(got, lens[i]);
        if (lens[i] == 0)
            assert_int_equal(st, FRAME_READY);
        else if (lens[i] <= FRAME_MAX_LEN)
            assert_int_equal(st, FRAME_NEED_MORE);
        else
            assert_int_equal(st, FRAME_TOO_LARGE);
    }
}

static void test_header_is_big_endian(void **state)
{
    uint8_t hdr[FRAME_HEADER_LEN];
    static const uint8_t one[] = {0, 0, 0, 1}, two24[] = {1, 0, 0, 0},
                         max[] = {0xff, 0xff, 0xff, 0xff};
    (void)state;

    frame_put_header(hdr, 1);
    assert_memory_equal(hdr, one, 4);
    frame_put_header(hdr, 1u << 24);
    assert_memory_equal(hdr, two24, 4);
    frame_put_header(hdr, UINT32_MAX);
    assert_memory_equal(hdr, max, 4);
}

static void test_peek_needs_more_until_header_complete(void **state)
{
    uint8_t hdr[FRAME_HEADER_LEN];
    (void)state;

    frame_put_header(hdr, 0);
    for (size_t avail = 0; avail < FRAME_HEADER_LEN; avail++) {
        uint32_t got = 12345;

        assert_int_equal(frame_peek(hdr, avail, FRAME_MAX_LEN, &got), FRAME_NEED_MORE);
        assert_int_equal(got, 12345); /* untouched without a whole header */
    }
}

static void test_peek_needs_more_until_payload_complete(void **state)
{
    uint8_t buf[FRAME_HEADER_LEN + 10 + 6] = {0};
    (void)state;

    frame_put_header(buf, 10);
    for (size_t avail = FRAME_HEADER_LEN; avail < FRAME_HEADER_LEN + 10; avail++) {
        uint32_t got = 0;

        assert_int_equal(frame_peek(buf, avail, FRAME_MAX_LEN, &got), FRAME_NEED_MORE);
        assert_int_equal(got, 10);
    }
    for (size_t avail = FRAME_HEADER_LEN + 10; avail <= sizeof(buf); avail++) {
        uint32_t got = 0;

        assert_int_equal(frame_peek(buf, avail, FRAME_MAX_LEN, &got), FRAME_READY);
        assert_int_equal(got, 10);
    }
}

static void test_peek_rejects_oversized_length_from_header_alone(void **state)
{
    uint8_t hdr[FRAME_HEADER_LEN];
    uint32_t got = 0;
    (void)state;

#ifdef HAVE_LD_WRAP
    alloc_reset();
#endif
    frame_put_header(hdr, 17);
    assert_int_equal(frame_peek(hdr, sizeof(hdr), 16, &got), FRAME_TOO_LARGE);
    assert_int_equal(got, 17);
    frame_put_header(hdr, 16);
    assert_int_equal(frame_peek(hdr, sizeof(hdr), 16, &got), FRAME_NEED_MORE);
    /* The protocol ceiling holds even when the caller's cap is larger. */
    frame_put_header(hdr, FRAME_MAX_LEN + 1);
    assert_int_equal(frame_peek(hdr, sizeof(hdr), UINT32_MAX, &got), FRAME_TOO_LARGE);
    frame_put_header(hdr, UINT32_MAX);
    assert_int_equal(frame_peek(hdr, sizeof(hdr), FRAME_MAX_LEN, &got), FRAME_TOO_LARGE);
#ifdef HAVE_LD_WRAP
    assert_int_equal(alloc_calls, 0);
#endif
}

/* ---- frame_reader ---- */

static void test_reader_without_bytes_needs_more(void **state)
{
    struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
    const uint8_t *payload;
    uint32_t len;
    (void)state;

    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_NEED_MORE);
    assert_int_equal(frame_reader_pending(r), 0);
    frame_reader_free(r);
    frame_reader_free(NULL);
}

static void test_reader_rejects_oversized_header_without_sizing_allocation(void **state)
{
    struct frame_reader *r = frame_reader_new(1024);
    uint8_t hdr[FRAME_HEADER_LEN];
    const uint8_t *payload;
    uint32_t len;
    (void)state;

    frame_put_header(hdr, UINT32_MAX);
#ifdef HAVE_LD_WRAP
    alloc_reset();
#endif
    assert_int_equal(frame_reader_feed(r, hdr, sizeof(hdr)), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_TOO_LARGE);
    assert_int_equal(frame_reader_pending(r), FRAME_HEADER_LEN);
#ifdef HAVE_LD_WRAP
    /* Only the fixed initial buffer: nothing grew toward 4 GiB. */
    assert_true(alloc_largest < 65536);
#endif
    frame_reader_free(r);
}

static void test_reader_keeps_reporting_too_large(void **state)
{
    static const uint32_t ok_len[] = {3};
    struct frame_reader *r = frame_reader_new(16);
    uint8_t hdr[FRAME_HEADER_LEN], *ok;
    const uint8_t *payload;
    uint32_t len;
    size_t ok_size;
    (void)state;

    frame_put_header(hdr, 17);
    ok = make_stream(ok_len, 1, &ok_size);
    assert_int_equal(frame_reader_feed(r, hdr, sizeof(hdr)), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_TOO_LARGE);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_TOO_LARGE);
    /* A well-formed frame afterwards cannot resynchronise the stream. */
    assert_int_equal(frame_reader_feed(r, ok, ok_size), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_TOO_LARGE);
    free(ok);
    frame_reader_free(r);
}

static void test_reader_honours_its_own_cap(void **state)
{
    static const uint32_t lens[] = {16, 17};
    struct frame_reader *r = frame_reader_new(16);
    const uint8_t *payload;
    uint32_t len;
    size_t total;
    uint8_t *buf = make_stream(lens, 2, &total);
    (void)state;

    assert_int_equal(frame_reader_feed(r, buf, total), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_READY);
    assert_frame(payload, len, 0, 16);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_TOO_LARGE);
    free(buf);
    frame_reader_free(r);
}

static void test_reader_returns_empty_frame(void **state)
{
    struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
    uint8_t hdr[FRAME_HEADER_LEN];
    const uint8_t *payload = NULL;
    uint32_t len = 99;
    (void)state;

    frame_put_header(hdr, 0);
    assert_int_equal(frame_reader_feed(r, hdr, sizeof(hdr)), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_READY);
    assert_int_equal(len, 0);
    assert_non_null(payload);
    assert_int_equal(frame_reader_pending(r), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_NEED_MORE);
    frame_reader_free(r);
}

static void test_reader_assembles_frame_fed_one_byte_at_a_time(void **state)
{
    static const uint32_t lens[] = {300};
    struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
    const uint8_t *payload;
    uint32_t len;
    size_t total;
    uint8_t *buf = make_stream(lens, 1, &total);
    (void)state;

    for (size_t i = 0; i + 1 < total; i++) {
        assert_int_equal(frame_reader_feed(r, buf + i, 1), 0);
        assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_NEED_MORE);
        assert_int_equal(frame_reader_pending(r), i + 1);
    }
    assert_int_equal(frame_reader_feed(r, buf + total - 1, 1), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_READY);
    assert_frame(payload, len, 0, 300);
    assert_int_equal(frame_reader_pending(r), 0);
    assert_int_equal(frame_reader_next(r, &payload, &len), FRAME_NEED_MORE);
    free(buf);
    frame_reader_free(r);
}

static void test_reader_returns_several_frames_from_one_feed(void **state)
{
    /* 70000 bytes outgrows the reader's first buffer. */
    static const uint32_t lens[] = {3, 0, 70000, 1};
    struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
    size_t total, seen = 0;
    uint8_t *buf = make_stream(lens, 4, &total);
    (void)state;

    assert_int_equal(frame_reader_feed(r, buf, total), 0);
    drain_expecting(r, lens, 4, &seen);
    assert_int_equal(seen, 4);
    assert_int_equal(frame_reader_pending(r), 0);
    free(buf);
    frame_reader_free(r);
}

static void test_reader_reassembles_frames_split_at_every_point(void **state)
{
    static const uint32_t lens[] = {5, 0, 300, 2};
    size_t total;
    uint8_t *buf = make_stream(lens, 4, &total);
    (void)state;

    /* Two cut points cover every way a header and a payload can straddle
     * three feeds, including empty feeds. */
    for (size_t a = 0; a <= total; a++) {
        for (size_t b = a; b <= total; b++) {
            struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
            size_t seen = 0;

            assert_int_equal(frame_reader_feed(r, buf, a), 0);
            drain_expecting(r, lens, 4, &seen);
            assert_int_equal(frame_reader_feed(r, buf + a, b - a), 0);
            drain_expecting(r, lens, 4, &seen);
            assert_int_equal(frame_reader_feed(r, buf + b, total - b), 0);
            drain_expecting(r, lens, 4, &seen);
            assert_int_equal(seen, 4);
            assert_int_equal(frame_reader_pending(r), 0);
            frame_reader_free(r);
        }
    }
    free(buf);
}

static void test_reader_assembles_large_frame_from_chunks(void **state)
{
    static const uint32_t lens[] = {1u << 20, 7};
    struct frame_reader *r = frame_reader_new(FRAME_MAX_LEN);
    size_t total, seen = 0;
    uint8_t *buf = make_stream(lens, 2, &total);
    (void)state;

    for (size_t off = 0; off < total; off += 4093) {
        size_t n = total - off < 4093 ? total - off : 4093;

        assert_int_equal(frame_reader_feed(r, buf + off, n), 0);
        drain_expecting(r, lens, 2, &seen);
    }
    assert_int_equal(seen, 2);
    free(buf);
    frame_reader_free(r);
}

/* ---- frame_pack ---- */

static void test_pack_response_round_trips_through_unpack(void **state)
{
    Ritra__FieldError fe1 = RITRA__FIELD_ERROR__INIT, fe2 = RITRA__FIELD_ERROR__INIT;
    Ritra__FieldError *details[] = {&fe1, &fe2};
    Ritra__Status status = RITRA__STATUS__INIT;
    Ritra__Agency agency = RITRA__AGENCY__INIT;
    Ritra__PingResult ping = RITRA__PING_RESULT__INIT;
    Ritra__Response resp = RITRA__RESPONSE__INIT, *back;
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    uint32_t hdr_len = 0;
    (void)state;

    fe1.path = "ping";
    fe1.reason = "must be empty";
    fe2.path = "persons[2].birth_date";
    fe2.reason = "not a date";
    status.code = RITRA__STATUS_CODE__OK;
    status.message = "fine";
    status.n_details = 2;
    status.details = details;
    agency.code = "FGN";
    agency.name = "Fiscalía General de la Nación";
    agency.kind = RITRA__AGENCY_KIND__AGENCY_KIND_PROSECUTOR;
    agency.cert_fingerprint = "ab12cd34";
    ping.server_version = "0.1.0";
    ping.protocol_version = 1;
    ping.agency = &agency;
    ping.server_time_ms = 1732752000123;
    resp.id = UINT64_MAX;
    resp.status = &status;
    resp.result_case = RITRA__RESPONSE__RESULT_PING;
    resp.ping = &ping;

    assert_int_equal(frame_pack(&resp.base, FRAME_MAX_LEN, &frame, &frame_len), 0);
    assert_int_equal(frame_len, FRAME_HEADER_LEN + ritra__response__get_packed_size(&resp));
    assert_int_equal(frame_peek(frame, frame_len, FRAME_MAX_LEN, &hdr_len), FRAME_READY);
    assert_int_equal(hdr_len, frame_len - FRAME_HEADER_LEN);

    back = ritra__response__unpack(NULL, hdr_len, frame + FRAME_HEADER_LEN);
    assert_non_null(back);
    assert_true(back->id == UINT64_MAX);
    assert_non_null(back->status);
    assert_int_equal(back->status->code, RITRA__STATUS_CODE__OK);
    assert_string_equal(back->status->message, "fine");
    assert_int_equal(back->status->n_details, 2);
    assert_string_equal(back->status->details[1]->path, "persons[2].birth_date");
    assert_string_equal(back->status->details[1]->reason, "not a date");
    assert_int_equal(back->result_case, RITRA__RESPONSE__RESULT_PING);
    assert_string_equal(back->ping->server_version, "0.1.0");
    assert_int_equal(back->ping->protocol_version, 1);
    assert_true(back->ping->server_time_ms == 1732752000123);
    assert_string_equal(back->ping->agency->code, "FGN");
    assert_string_equal(back->ping->agency->name, "Fiscalía General de la Nación");
    assert_int_equal(back->ping->agency->kind, RITRA__AGENCY_KIND__AGENCY_KIND_PROSECUTOR);
    assert_string_equal(back->ping->agency->cert_fingerprint, "ab12cd34");
    ritra__response__free_unpacked(back, NULL);
    free(frame);
}

static void test_pack_empty_message_is_bare_header(void **state)
{
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    static const uint8_t zero[FRAME_HEADER_LEN] = {0};
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    (void)state;

    assert_int_equal(frame_pack(&ping.base, FRAME_MAX_LEN, &frame, &frame_len), 0);
    assert_int_equal(frame_len, FRAME_HEADER_LEN);
    assert_memory_equal(frame, zero, FRAME_HEADER_LEN);
    free(frame);
}

static void test_pack_refuses_message_over_cap(void **state)
{
    char message[101];
    Ritra__Status status = RITRA__STATUS__INIT;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    uint8_t *frame = NULL;
    size_t frame_len = 0, size;
    (void)state;

    memset(message, 'x', sizeof(message) - 1);
    message[sizeof(message) - 1] = '\0';
    status.code = RITRA__STATUS_CODE__RESOURCE_EXHAUSTED;
    status.message = message;
    resp.id = 7;
    resp.status = &status;
    size = ritra__response__get_packed_size(&resp);

#ifdef HAVE_LD_WRAP
    alloc_reset();
#endif
    assert_int_equal(frame_pack(&resp.base, (uint32_t)size - 1, &frame, &frame_len), -1);
    assert_null(frame);
    assert_int_equal(frame_len, 0);
#ifdef HAVE_LD_WRAP
    assert_int_equal(alloc_calls, 0); /* refused before allocating */
#endif
    /* Exactly at the cap is allowed. */
    assert_int_equal(frame_pack(&resp.base, (uint32_t)size, &frame, &frame_len), 0);
    assert_int_equal(frame_len, FRAME_HEADER_LEN + size);
#ifdef HAVE_LD_WRAP
    assert_int_equal(alloc_calls, 1); /* the accounting above is live */
#endif
    free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_round_trips_boundary_lengths),
        cmocka_unit_test(test_header_is_big_endian),
        cmocka_unit_test(test_peek_needs_more_until_header_complete),
        cmocka_unit_test(test_peek_needs_more_until_payload_complete),
        cmocka_unit_test(test_peek_rejects_oversized_length_from_header_alone),
        cmocka_unit_test(test_reader_without_bytes_needs_more),
        cmocka_unit_test(test_reader_rejects_oversized_header_without_sizing_allocation),
        cmocka_unit_test(test_reader_keeps_reporting_too_large),
        cmocka_unit_test(test_reader_honours_its_own_cap),
        cmocka_unit_test(test_reader_returns_empty_frame),
        cmocka_unit_test(test_reader_assembles_frame_fed_one_byte_at_a_time),
        cmocka_unit_test(test_reader_returns_several_frames_from_one_feed),
        cmocka_unit_test(test_reader_reassembles_frames_split_at_every_point),
        cmocka_unit_test(test_reader_assembles_large_frame_from_chunks),
        cmocka_unit_test(test_pack_response_round_trips_through_unpack),
        cmocka_unit_test(test_pack_empty_message_is_bare_header),
        cmocka_unit_test(test_pack_refuses_message_over_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
