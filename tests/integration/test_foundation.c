/*
 * The foundation end to end: real PostgreSQL, real ritra-server, real TLS
 * with certificates made for this run, driven through libritra (or raw TLS
 * where a test must misbehave on the wire).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "frame.h"
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

static void cert_fingerprint(const char *name, char out[65])
{
    char path[400];
    unsigned char md[32];
    unsigned int n = 0;
    FILE *f;
    X509 *x;

    snprintf(path, sizeof(path), "%s/%s.crt", H.pki, name);
    f = fopen(path, "r");
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    X509_free(x);
}

static void ping_as(const char *cert, const char *code, int kind)
{
    struct ritra_error err;
    struct ritra_ping_result res;
    struct ritra_conn *c = harness_connect(&H, cert, &err);
    char fp[65];

    assert_non_null(c);
    assert_int_equal(ritra_ping(c, &res, &err), 0);
    assert_string_equal(res.agency.code, code);
    assert_int_equal(res.agency.kind, kind);
    cert_fingerprint(cert, fp);
    assert_string_equal(res.agency.fingerprint, fp);
    assert_int_equal(res.protocol_version, 1);
    assert_true(res.server_time_ms > 1700000000000LL);
    ritra_close(c);
}

static void test_ping_returns_the_agency_of_the_certificate(void **state)
{
    (void)state;
    ping_as("FGN", "FGN", RITRA__AGENCY_KIND__AGENCY_KIND_PROSECUTOR);
    ping_as("PONAL", "PONAL", RITRA__AGENCY_KIND__AGENCY_KIND_POLICE);
    ping_as("MIGRACION", "MIGRACION", RITRA__AGENCY_KIND__AGENCY_KIND_MIGRATION);
    ping_as("ICBF", "ICBF", RITRA__AGENCY_KIND__AGENCY_KIND_VICTIM_SERVICES);
    ping_as("PGN", "PGN", RITRA__AGENCY_KIND__AGENCY_KIND_AUDITOR);
    ping_as("MININTERIOR", "MININTERIOR", RITRA__AGENCY_KIND__AGENCY_KIND_COORDINATOR);
}

static void test_ping_reports_name_and_server_version(void **state)
{
    struct ritra_error err;
    struct ritra_ping_result res;
    struct ritra_conn *c = harness_connect(&H, "FGN", &err);

    (void)state;
    assert_non_null(c);
    assert_int_equal(ritra_ping(c, &res, &err), 0);
    assert_string_equal(res.agency.name, "Fiscalía General de la Nación");
    assert_true(strlen(res.server_version) > 0);
    ritra_close(c);
}

/* Connecting and pinging as cert must fail with UNAUTHENTICATED, whether
 * the refusal surfaces at connect (TLS 1.2 style) or at the first call. */
static void assert_refused(const char *cert, struct ritra_error *err)
{
    struct ritra_ping_result res;
    struct ritra_conn *c = harness_connect(&H, cert, err);

    if (c != NULL) {
        assert_int_equal(ritra_ping(c, &res, err), -1);
        ritra_close(c);
    }
    assert_int_equal(err->code, RITRA__STATUS_CODE__UNAUTHENTICATED);
}

static void wait_log(const char *needle)
{
    long long deadline = harness_now_ms() + 3000;

    while (harness_log_count(&H, needle) == 0 && harness_now_ms() < deadline)
        usleep(20000);
    assert_true(harness_log_count(&H, needle) > 0);
}

static void test_refused_without_client_certificate(void **state)
{
    struct ritra_error err;

    (void)state;
    assert_refused(NULL, &err);
    wait_log("event=tls_refused");
}

static void test_refused_certificate_from_foreign_ca(void **state)
{
    struct ritra_error err;

    (void)state;
    assert_refused("foreign", &err);
    wait_log("unable to get local issuer certificate");
}

static void test_refused_expired_certificate(void **state)
{
    struct ritra_error err;

    (void)state;
    assert_refused("expired", &err);
    wait_log("certificate has expired");
}

static void test_refused_revoked_certificate_by_crl(void **state)
{
    struct ritra_error err;

    (void)state;
    /* revoked.crt is pinned to FGN: only the CRL can be what refuses it. */
    assert_refused("revoked", &err);
    wait_log("certificate revoked");
}

static void test_refused_unregistered_certificate(void **state)
{
    struct ritra_error err;

    (void)state;
    assert_refused("unregistered", &err);
    assert_non_null(strstr(err.message, "not registered"));
    wait_log("reason=\"certificate not registered to any agency\"");
}

static void test_refused_disabled_agency_and_its_open_connections(void **state)
{
    const char *disable[] = {"agency", "disable", "MIGRACION", NULL};
    const char *enable[] = {"agency", "enable", "MIGRACION", NULL};
    struct ritra_error err;
    struct ritra_ping_result res;
    struct ritra_conn *open_before = harness_connect(&H, "MIGRACION", &err);

    (void)state;
    assert_non_null(open_before);
    assert_int_equal(ritra_ping(open_before, &res, &err), 0);
    assert_int_equal(harness_admin(&H, disable), 0);

    assert_refused("MIGRACION", &err);
    assert_non_null(strstr(err.message, "disabled"));
    /* A connection opened before the switch is refused on its next request. */
    assert_int_equal(ritra_ping(open_before, &res, &err), -1);
    assert_int_equal(err.code, RITRA__STATUS_CODE__UNAUTHENTICATED);
    ritra_close(open_before);

    assert_int_equal(harness_admin(&H, enable), 0);
    ping_as("MIGRACION", "MIGRACION", RITRA__AGENCY_KIND__AGENCY_KIND_MIGRATION);
}

static void test_revoked_pin_is_refused(void **state)
{
    char fp[65];
    const char *revoke[] = {"cert", "revoke", fp, NULL};
    struct ritra_error err;

    (void)state;
    /* ICBF's pin withdrawn in the registry while the CA still vouches. */
    cert_fingerprint("ICBF", fp);
    assert_int_equal(harness_admin(&H, revoke), 0);
    assert_refused("ICBF", &err);
    assert_non_null(strstr(err.message, "revoked"));
}

static void raw_write(SSL *ssl, const void *buf, int len)
{
    assert_int_equal(SSL_write(ssl, buf, len), len);
}

static void test_oversized_frame_is_refused_and_others_are_served(void **state)
{
    SSL *bad = harness_raw_connect(&H, "FGN");
    struct ritra_error err;
    struct ritra_conn *good = harness_connect(&H, "PONAL", &err);
    struct ritra_ping_result res;
    uint8_t hdr[4];
    Ritra__Response *resp;

    (void)state;
    assert_non_null(bad);
    assert_non_null(good);
    /* Default max_frame is 4 MiB; announce one byte more and send nothing else. */
    frame_put_header(hdr, 4u * 1024 * 1024 + 1);
    raw_write(bad, hdr, 4);
    resp = harness_raw_read(bad, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, 0);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED);
    assert_non_null(strstr(resp->status->message, "exceeds"));
    ritra__response__free_unpacked(resp, NULL);
    assert_true(harness_raw_closed(bad, 5000));
    harness_raw_close(bad);

    assert_int_equal(ritra_ping(good, &res, &err), 0);
    assert_string_equal(res.agency.code, "PONAL");
    ritra_close(good);
}

static void test_garbage_frame_gets_invalid_argument_and_close(void **state)
{
    SSL *bad = harness_raw_connect(&H, "FGN");
    uint8_t junk[14] = {0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    Ritra__Response *resp;

    (void)state;
    assert_non_null(bad);
    raw_write(bad, junk, sizeof(junk));
    resp = harness_raw_read(bad, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, 0);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__INVALID_ARGUMENT);
    ritra__response__free_unpacked(resp, NULL);
    assert_true(harness_raw_closed(bad, 5000));
    harness_raw_close(bad);
}

static void test_http_request_on_the_port_is_refused_as_oversized(void **state)
{
    SSL *bad = harness_raw_connect(&H, "FGN");
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    Ritra__Response *resp;

    (void)state;
    assert_non_null(bad);
    raw_write(bad, http, (int)strlen(http));
    resp = harness_raw_read(bad, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED);
    ritra__response__free_unpacked(resp, NULL);
    assert_true(harness_raw_closed(bad, 5000));
    harness_raw_close(bad);
}

/* Sends one hand-encoded Request and returns the reply. */
static Ritra__Response *raw_call(SSL *ssl, const Ritra__Request *req)
{
    uint8_t *buf;
    size_t len;

    assert_int_equal(frame_pack(&req->base, FRAME_MAX_LEN, &buf, &len), 0);
    raw_write(ssl, buf, (int)len);
    free(buf);
    return harness_raw_read(ssl, 5000);
}

static void assert_field_error(const Ritra__Response *resp, int code, const char *path)
{
    assert_non_null(resp);
    assert_int_equal(resp->status->code, code);
    if (path == NULL)
        return;
    assert_true(resp->status->n_details >= 1);
    assert_string_equal(resp->status->details[0]->path, path);
}

static void test_invalid_envelopes_get_precise_errors(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Response *resp;
    char bad_utf8[] = {'J', 'o', 's', (char)0xc3, 0};

    (void)state;
    assert_non_null(ssl);
    req.id = 7;
    req.protocol_version = 1;

    /* actor missing */
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "actor");
    assert_int_equal(resp->id, 7);
    ritra__response__free_unpacked(resp, NULL);

    /* actor not UTF-8 */
    req.actor = bad_utf8;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "actor");
    assert_non_null(strstr(resp->status->details[0]->reason, "UTF-8"));
    ritra__response__free_unpacked(resp, NULL);

    /* no operation */
    req.actor = "fiscal.perez";
    req.op_case = RITRA__REQUEST__OP__NOT_SET;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "op");
    ritra__response__free_unpacked(resp, NULL);

    /* a protocol version from the future */
    req.op_case = RITRA__REQUEST__OP_PING;
    req.protocol_version = 2;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__UNIMPLEMENTED, "protocol_version");
    ritra__response__free_unpacked(resp, NULL);

    /* the connection survived all of that */
    req.protocol_version = 1;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__OK, NULL);
    assert_int_equal(resp->result_case, RITRA__RESPONSE__RESULT_PING);
    ritra__response__free_unpacked(resp, NULL);
    harness_raw_close(ssl);
}

static void test_unknown_operation_is_unimplemented(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    /* id=9, actor="a", protocol_version=1, then field 99 (an operation
     * from a newer client) as an empty message. */
    const uint8_t msg[] = {0x08, 9, 0x12, 1, 'a', 0x18, 1, 0x9a, 0x06, 0};
    uint8_t frame[4 + sizeof(msg)];
    Ritra__Response *resp;

    (void)state;
    assert_non_null(ssl);
    frame_put_header(frame, sizeof(msg));
    memcpy(frame + 4, msg, sizeof(msg));
    raw_write(ssl, frame, sizeof(frame));
    resp = harness_raw_read(ssl, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, 9);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__UNIMPLEMENTED);
    ritra__response__free_unpacked(resp, NULL);
    harness_raw_close(ssl);
}

static void test_request_id_zero_closes_the_connection(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Response *resp;

    (void)state;
    assert_non_null(ssl);
    req.actor = "x";
    req.protocol_version = 1;
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    resp = raw_call(ssl, &req);
    assert_field_error(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, NULL);
    assert_int_equal(resp->id, 0);
    ritra__response__free_unpacked(resp, NULL);
    assert_true(harness_raw_closed(ssl, 5000));
    harness_raw_close(ssl);
}

static void test_ten_thousand_pipelined_pings_are_all_answered(void **state)
{
    enum { N = 10000 };
    Ritra__Request *reqs = calloc(N, sizeof(*reqs));
    Ritra__Request **ptrs = calloc(N, sizeof(*ptrs));
    Ritra__Response **resps = calloc(N, sizeof(*resps));
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, "FGN", &err);

    (void)state;
    assert_non_null(c);
    for (size_t i = 0; i < N; i++) {
        ritra__request__init(&reqs[i]);
        reqs[i].id = 1000 + i;
        reqs[i].op_case = RITRA__REQUEST__OP_PING;
        reqs[i].ping = &ping;
        ptrs[i] = &reqs[i];
    }
    assert_int_equal(ritra_call_batch(c, ptrs, N, resps, &err), 0);
    for (size_t i = 0; i < N; i++) {
        assert_non_null(resps[i]);
        assert_int_equal(resps[i]->id, 1000 + i);
        assert_int_equal(resps[i]->status->code, RITRA__STATUS_CODE__OK);
        assert_string_equal(resps[i]->ping->agency->code, "FGN");
        ritra__response__free_unpacked(resps[i], NULL);
    }
    ritra_close(c);
    free(reqs);
    free(ptrs);
    free(resps);
}

static void test_two_hundred_concurrent_connections(void **state)
{
    enum { N = 200 };
    struct ritra_conn *conns[N];
    struct ritra_error err;
    struct ritra_ping_result res;
    const char *agencies[] = {"FGN", "PONAL", "PGN", "MININTERIOR"};

    (void)state;
    for (int i = 0; i < N; i++) {
        conns[i] = harness_connect(&H, agencies[i % 4], &err);
        assert_non_null(conns[i]);
    }
    /* All open at once; each is served. */
    for (int i = 0; i < N; i++) {
        assert_int_equal(ritra_ping(conns[i], &res, &err), 0);
        assert_string_equal(res.agency.code, agencies[i % 4]);
    }
    for (int i = 0; i < N; i++)
        ritra_close(conns[i]);
}

static void test_postgres_outage_gives_unavailable_then_recovers(void **state)
{
    struct ritra_error err;
    struct ritra_ping_result res;
    struct ritra_conn *c = harness_connect(&H, "FGN", &err);
    long long t0, deadline;
    int ok = 0;

    (void)state;
    assert_non_null(c);
    assert_int_equal(ritra_ping(c, &res, &err), 0);
    assert_int_equal(harness_pg(&H, "stop"), 0);

    /* During the outage: a prompt UNAVAILABLE, on the old connection and on
     * a new one alike; never a hang. */
    t0 = harness_now_ms();
    assert_int_equal(ritra_ping(c, &res, &err), -1);
    assert_int_equal(err.code, RITRA__STATUS_CODE__UNAVAILABLE);
    assert_true(harness_now_ms() - t0 < 2000);
    assert_int_equal(ritra_ping(c, &res, &err), -1);
    assert_int_equal(err.code, RITRA__STATUS_CODE__UNAVAILABLE);
    {
        struct ritra_conn *fresh = harness_connect(&H, "PONAL", &err);
        if (fresh != NULL) {
            assert_int_equal(ritra_ping(fresh, &res, &err), -1);
            ritra_close(fresh);
        }
        assert_int_equal(err.code, RITRA__STATUS_CODE__UNAVAILABLE);
    }

    assert_int_equal(harness_pg(&H, "start"), 0);
    deadline = harness_now_ms() + 15000;
    while (!ok && harness_now_ms() < deadline) {
        t0 = harness_now_ms();
        ok = ritra_ping(c, &res, &err) == 0;
        assert_true(harness_now_ms() - t0 < 2000);
        if (!ok) {
            assert_int_equal(err.code, RITRA__STATUS_CODE__UNAVAILABLE);
            usleep(100000);
        }
    }
    assert_true(ok);
    ritra_close(c);
}

static void test_sighup_reloads_without_dropping_connections(void **state)
{
    struct ritra_error err;
    struct ritra_ping_result res;
    struct ritra_conn *c = harness_connect(&H, "FGN", &err);
    int before = harness_log_count(&H, "event=reloaded");
    long long deadline = harness_now_ms() + 3000;

    (void)state;
    assert_non_null(c);
    assert_int_equal(ritra_ping(c, &res, &err), 0);
    kill(H.server, SIGHUP);
    while (harness_log_count(&H, "event=reloaded") == before && harness_now_ms() < deadline)
        usleep(20000);
    assert_int_equal(harness_log_count(&H, "event=reloaded"), before + 1);
    assert_int_equal(ritra_ping(c, &res, &err), 0);
    ritra_close(c);
    ping_as("PONAL", "PONAL", RITRA__AGENCY_KIND__AGENCY_KIND_POLICE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_returns_the_agency_of_the_certificate),
        cmocka_unit_test(test_ping_reports_name_and_server_version),
        cmocka_unit_test(test_refused_without_client_certificate),
        cmocka_unit_test(test_refused_certificate_from_foreign_ca),
        cmocka_unit_test(test_refused_expired_certificate),
        cmocka_unit_test(test_refused_revoked_certificate_by_crl),
        cmocka_unit_test(test_refused_unregistered_certificate),
        cmocka_unit_test(test_refused_disabled_agency_and_its_open_connections),
        cmocka_unit_test(test_revoked_pin_is_refused),
        cmocka_unit_test(test_oversized_frame_is_refused_and_others_are_served),
        cmocka_unit_test(test_garbage_frame_gets_invalid_argument_and_close),
        cmocka_unit_test(test_http_request_on_the_port_is_refused_as_oversized),
        cmocka_unit_test(test_invalid_envelopes_get_precise_errors),
        cmocka_unit_test(test_unknown_operation_is_unimplemented),
        cmocka_unit_test(test_request_id_zero_closes_the_connection),
        cmocka_unit_test(test_ten_thousand_pipelined_pings_are_all_answered),
        cmocka_unit_test(test_two_hundred_concurrent_connections),
        cmocka_unit_test(test_sighup_reloads_without_dropping_connections),
        cmocka_unit_test(test_postgres_outage_gives_unavailable_then_recovers),
    };

    return cmocka_run_group_tests_name("integration-foundation", tests, setup, teardown);
}
