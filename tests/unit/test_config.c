/* config.c on its own: defaults, the file format, every kind of bad value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/ritra-config-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults_are_safe(void **state)
{
    struct config cfg;

    (void)state;
    assert_int_equal(config_init(&cfg), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:7443");
    assert_int_equal(cfg.tls_min_version, 13);
    assert_int_equal(cfg.max_frame, 4u * 1024 * 1024);
    assert_true(cfg.handshake_timeout_ms > 0 && cfg.idle_timeout_ms > 0);
    assert_true(cfg.max_inflight > 0 && cfg.max_connections > 0);
    config_clear(&cfg);
}

static void test_file_with_comments_blanks_and_spaces_loads(void **state)
{
    struct config cfg;
    char err[256];
    char *path = write_tmp("# a comment\n\n  listen =  0.0.0.0:9000  \n"
                           "database = host=/tmp dbname=ritra\n"
                           "idle_timeout = 250ms\nmax_frame = 64k\n"
                           "tls_min_version = 1.2\nmax_inflight=8\n");

    (void)state;
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen, "0.0.0.0:9000");
    assert_string_equal(cfg.database, "host=/tmp dbname=ritra");
    assert_int_equal(cfg.idle_timeout_ms, 250);
    assert_int_equal(cfg.max_frame, 65536);
    assert_int_equal(cfg.tls_min_version, 12);
    assert_int_equal(cfg.max_inflight, 8);
    config_clear(&cfg);
    unlink(path);
}

static void expect_line_error(const char *text, const char *fragment)
{
    struct config cfg;
    char err[256];
    char *path = write_tmp(text);

    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), -1);
    if (strstr(err, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, fragment);
    config_clear(&cfg);
    unlink(path);
}

static void test_bad_lines_name_the_line_and_the_problem(void **state)
{
    (void)state;
    expect_line_error("listen = a:1\nbogus_key = 1\n", ":2: unknown key \"bogus_key\"");
    expect_line_error("no equals sign\n", ":1: expected key = value");
    expect_line_error("max_inflight = 0\n", "max_inflight: expected an integer from 1");
    expect_line_error("max_inflight = 12abc\n", "max_inflight");
    expect_line_error("max_inflight = 99999999999999999999\n", "max_inflight");
    expect_line_error("idle_timeout = -5s\n", "idle_timeout");
    expect_line_error("idle_timeout = 10h\n", "idle_timeout");
    expect_line_error("idle_timeout = 0\n", "idle_timeout");
    expect_line_error("max_frame = 100\n", "max_frame: expected a size from 1k to 64M");
    expect_line_error("max_frame = 65M\n", "max_frame");
    expect_line_error("tls_min_version = 1.1\n", "tls_min_version: expected 1.2 or 1.3");
    expect_line_error("log_level = loud\n", "log_level");
    expect_line_error("database =\n", "database: empty value");
}

static void test_overlong_line_is_refused(void **state)
{
    char *text = malloc(6000);

    (void)state;
    memset(text, 'a', 5998);
    memcpy(text, "listen = ", 9);
    text[5998] = '\n';
    text[5999] = '\0';
    expect_line_error(text, "line longer than");
    free(text);
}

static void test_missing_file_is_reported(void **state)
{
    struct config cfg;
    char err[256];

    (void)state;
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, "/nonexistent/ritra.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    config_clear(&cfg);
}

static void test_validate_requires_database_and_tls_files(void **state)
{
    struct config cfg;
    char err[256];

    (void)state;
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "database is required");
    assert_int_equal(config_set(&cfg, "database", "dbname=x", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "tls_cert", "s.crt", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "tls_key", "s.key", err, sizeof(err)), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "tls_ca is required");
    assert_int_equal(config_set(&cfg, "tls_ca", "ca.crt", err, sizeof(err)), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "max_connections", "10", err, sizeof(err)), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "max_connections_per_agency"));
    config_clear(&cfg);
}

static void test_durations_and_sizes_parse_units(void **state)
{
    int ms;
    uint64_t b;

    (void)state;
    assert_int_equal(config_parse_duration("1500ms", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(config_parse_duration("3", &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(config_parse_duration("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(config_parse_duration("", &ms), -1);
    assert_int_equal(config_parse_duration("3000000000s", &ms), -1);
    assert_int_equal(config_parse_size("4M", &b), 0);
    assert_int_equal(b, 4u * 1024 * 1024);
    assert_int_equal(config_parse_size("4MB", &b), -1);
    assert_int_equal(config_parse_size("k", &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_safe),
        cmocka_unit_test(test_file_with_comments_blanks_and_spaces_loads),
        cmocka_unit_test(test_bad_lines_name_the_line_and_the_problem),
        cmocka_unit_test(test_overlong_line_is_refused),
        cmocka_unit_test(test_missing_file_is_reported),
        cmocka_unit_test(test_validate_requires_database_and_tls_files),
        cmocka_unit_test(test_durations_and_sizes_parse_units),
    };
    return cmocka_run_group_tests_name("unit-config", tests, NULL, NULL);
}
