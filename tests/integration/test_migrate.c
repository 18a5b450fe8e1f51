/*
 * Schema migrations, ritra-admin and --check-config against a real
 * cluster: re-running is a no-op, an edited applied migration is refused,
 * a migration the release does not know is refused, admin exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct harness H;

static int setup(void **state)
{
    (void)state;
    return harness_start(&H, NULL);
}

static int teardown(void **state)
{
    (void)state;
    harness_stop(&H);
    return 0;
}

/* Runs a shell command; returns its exit code; output goes to out. */
__attribute__((format(printf, 3, 4))) static int sh(char *out, size_t outlen, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    FILE *p;
    size_t n;
    int status;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *server_bin(void)
{
    return getenv("RITRA_SERVER_BIN");
}

static void test_migrate_again_applies_nothing(void **state)
{
    char out[4096];

    (void)state;
    assert_int_equal(sh(out, sizeof(out), "%s migrate --config %s 2>&1", server_bin(), H.conf), 0);
    assert_non_null(strstr(out, "applied=0"));
}

static void test_edited_applied_migration_is_refused(void **state)
{
    char out[4096];

    (void)state;
    assert_int_equal(sh(out, sizeof(out),
                        "rm -rf %s/mig && cp -r %s/migrations %s/mig && "
                        "echo '-- edited' >> %s/mig/0001_agencies.sql",
                        H.dir, getenv("RITRA_SRCDIR"), H.dir, H.dir),
                     0);
    assert_int_equal(sh(out, sizeof(out), "%s migrate --config %s --set migrations_dir=%s/mig 2>&1",
                        server_bin(), H.conf, H.dir),
                     1);
    assert_non_null(strstr(out, "0001_agencies.sql was changed after it was applied"));
}

static void test_migration_unknown_to_the_release_is_refused(void **state)
{
    char out[4096];

    (void)state;
    /* A release that lacks a migration the database already has. */
    assert_int_equal(sh(out, sizeof(out), "rm -rf %s/empty && mkdir %s/empty", H.dir, H.dir), 0);
    assert_int_equal(sh(out, sizeof(out),
                        "%s migrate --config %s --set migrations_dir=%s/empty 2>&1", server_bin(),
                        H.conf, H.dir),
                     1);
    assert_non_null(strstr(out, "not in this release"));
}

static void test_check_config_accepts_good_and_names_bad(void **state)
{
    char out[4096];

    (void)state;
    assert_int_equal(
        sh(out, sizeof(out), "%s --check-config --config %s 2>&1", server_bin(), H.conf), 0);
    assert_non_null(strstr(out, "configuration ok"));
    assert_int_equal(sh(out, sizeof(out), "%s --check-config --config %s --set max_inflight=0 2>&1",
                        server_bin(), H.conf),
                     1);
    assert_non_null(strstr(out, "max_inflight"));
    assert_int_equal(sh(out, sizeof(out),
                        "%s --check-config --config %s --set tls_key=%s/ca.crt 2>&1", server_bin(),
                        H.conf, H.pki),
                     1);
    assert_non_null(strstr(out, "tls_key"));
}

static void test_admin_exit_codes(void **state)
{
    const char *dup[] = {"agency", "add", "FGN", "--name", "x", "--kind", "prosecutor", NULL};
    const char *badkind[] = {"agency", "add", "NEWONE", "--name", "x", "--kind", "army", NULL};
    const char *nosuch[] = {"agency", "disable", "NOSUCH", NULL};
    const char *usage[] = {"agency", "frobnicate", NULL};
    char crt[400];
    const char *pin_again[] = {"cert", "add", "FGN", crt, NULL};
    const char *pin_nosuch[] = {"cert", "add", "NOSUCH", crt, NULL};

    (void)state;
    snprintf(crt, sizeof(crt), "%s/FGN.crt", H.pki);
    assert_int_equal(harness_admin(&H, dup), 3);
    assert_int_equal(harness_admin(&H, badkind), 1);
    assert_int_equal(harness_admin(&H, nosuch), 4);
    assert_int_equal(harness_admin(&H, usage), 2);
    assert_int_equal(harness_admin(&H, pin_again), 3);
    snprintf(crt, sizeof(crt), "%s/unregistered.crt", H.pki);
    assert_int_equal(harness_admin(&H, pin_nosuch), 4);
}

static void test_server_role_cannot_write_the_registry(void **state)
{
    char out[4096];

    (void)state;
    /* Least privilege: ritra_app reads agencies, never changes them. */
    assert_int_not_equal(
        sh(out, sizeof(out),
           "psql '%s' -v ON_ERROR_STOP=1 -c \"UPDATE agencies SET enabled = true\" "
           "2>&1",
           H.db_app),
        0);
    assert_non_null(strstr(out, "permission denied"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_again_applies_nothing),
        cmocka_unit_test(test_edited_applied_migration_is_refused),
        cmocka_unit_test(test_migration_unknown_to_the_release_is_refused),
        cmocka_unit_test(test_check_config_accepts_good_and_names_bad),
        cmocka_unit_test(test_admin_exit_codes),
        cmocka_unit_test(test_server_role_cannot_write_the_registry),
    };

    return cmocka_run_group_tests_name("integration-migrate", tests, setup, teardown);
}
