/* pbcheck.c and pbbudget.c: the wire-level guards every request passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pbbudget.h"
#include "pbcheck.h"
#include "ritra.pb-c.h"

static int check(const uint8_t *msg, size_t len, char *path, char *why)
{
    return pbcheck_strings(&ritra__request__descriptor, msg, len, path, 256, why, 128);
}

static void test_utf8_accepts_spanish_and_rejects_malformed(void **state)
{
    const char *good[] = {"", "María José Muñoz", "Ñandú", "€", "𝄞", "plain"};
    const char *bad[] = {"\xc3",
                         "\xc3\x28",
                         "\xe2\x82",
                         "\xed\xa0\x80" /* surrogate */,
                         "\xc0\xaf" /* overlong */,
                         "\xf4\x90\x80\x80" /* > U+10FFFF */,
                         "\x80",
                         "\xff"};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(pbcheck_utf8((const uint8_t *)good[i], strlen(good[i])), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pbcheck_utf8((const uint8_t *)bad[i], strlen(bad[i])), -1);
}

static void test_string_field_with_nul_is_caught_with_its_path(void **state)
{
    /* Request.actor (field 2) = "ab\0c" */
    const uint8_t msg[] = {0x08, 1, 0x12, 4, 'a', 'b', 0, 'c'};
    char path[256], why[128];

    (void)state;
    assert_int_equal(check(msg, sizeof(msg), path, why), -1);
    assert_string_equal(path, "actor");
    assert_string_equal(why, "contains a NUL character");
}

static void test_invalid_utf8_inside_a_string_is_caught(void **state)
{
    const uint8_t msg[] = {0x12, 2, 0xc3, 0x28};
    char path[256], why[128];

    (void)state;
    assert_int_equal(check(msg, sizeof(msg), path, why), -1);
    assert_string_equal(path, "actor");
    assert_string_equal(why, "not valid UTF-8");
}

static void test_valid_request_with_unknown_fields_passes(void **state)
{
    /* id=1, actor="José", field 99 = {0x12 0x01 0xff} (unknown: not walked) */
    const uint8_t msg[] = {0x08, 1,    0x12, 5, 'J',  'o', 's', 0xc3,
                           0xa9, 0x9a, 0x06, 3, 0x12, 1,   0xff};
    char path[256], why[128];

    (void)state;
    assert_int_equal(check(msg, sizeof(msg), path, why), 0);
}

static void test_truncated_encodings_are_reported(void **state)
{
    const uint8_t trunc_len[] = {0x12, 10, 'a'};
    const uint8_t trunc_varint[] = {0x08, 0x80};
    const uint8_t group[] = {0x0b};
    char path[256], why[128];

    (void)state;
    assert_int_equal(check(trunc_len, sizeof(trunc_len), path, why), -1);
    assert_int_equal(check(trunc_varint, sizeof(trunc_varint), path, why), -1);
    assert_int_equal(check(group, sizeof(group), path, why), -1);
    assert_string_equal(why, "unsupported wire type");
}

static void test_budget_refuses_expansion_beyond_its_limit(void **state)
{
    struct pb_budget b;
    Ritra__Request *req;
    /* A ping op (field 10) repeated 2,000 times: tiny on the wire. */
    uint8_t msg[4000];

    (void)state;
    for (size_t i = 0; i < sizeof(msg); i += 2) {
        msg[i] = 0x52;
        msg[i + 1] = 0;
    }
    pb_budget_init(&b, 1u << 20);
    req = ritra__request__unpack(&b.allocator, sizeof(msg), msg);
    assert_non_null(req);
    assert_int_equal(req->op_case, RITRA__REQUEST__OP_PING);
    ritra__request__free_unpacked(req, &b.allocator);
    assert_int_equal(b.used, 0);

    pb_budget_init(&b, 64);
    req = ritra__request__unpack(&b.allocator, sizeof(msg), msg);
    assert_null(req);
    assert_true(b.exhausted);
    assert_int_equal(b.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_spanish_and_rejects_malformed),
        cmocka_unit_test(test_string_field_with_nul_is_caught_with_its_path),
        cmocka_unit_test(test_invalid_utf8_inside_a_string_is_caught),
        cmocka_unit_test(test_valid_request_with_unknown_fields_passes),
        cmocka_unit_test(test_truncated_encodings_are_reported),
        cmocka_unit_test(test_budget_refuses_expansion_beyond_its_limit),
    };
    return cmocka_run_group_tests_name("unit-pbcheck", tests, NULL, NULL);
}
