/*
 * Limits and deadlines against a server configured with short timeouts:
 * idle clients, trickling clients, silent TCP peers, per-agency connection
 * caps, and the SIGTERM drain.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "harness.h"

static struct harness H;

static int setup(void **state)
{
    (void)state;
    return harness_start(&H, "idle_timeout = 1s\n"
                             "frame_timeout = 1s\n"
                             "handshake_timeout = 1s\n"
                             "max_connections_per_agency = 3\n");
}

static int teardown(void **state)
{
    (void)state;
    harness_stop(&H);
    return 0;
}

static void test_silent_client_is_dropped_after_idle_timeout(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    long long t0 = harness_now_ms();
    Ritra__Response *resp;

    (void)state;
    assert_non_null(ssl);
    resp = harness_raw_read(ssl, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, 0);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__DEADLINE_EXCEEDED);
    assert_string_equal(resp->status->message, "idle timeout");
    ritra__response__free_unpacked(resp, NULL);
    assert_true(harness_raw_closed(ssl, 3000));
    assert_true(harness_now_ms() - t0 >= 900);
    assert_true(harness_now_ms() - t0 < 4000);
    harness_raw_close(ssl);
}

static void test_trickling_client_is_dropped_by_the_frame_deadline(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    uint8_t hdr[4];
    long long t0 = harness_now_ms();
    bool closed = false;

    (void)state;
    assert_non_null(ssl);
    frame_put_header(hdr, 100);
    /* One byte every 200 ms keeps an inactivity timer happy forever. */
    for (int i = 0; i < 4 && !closed; i++) {
        assert_int_equal(SSL_write(ssl, &hdr[i], 1), 1);
        usleep(200000);
    }
    for (int i = 0; i < 20 && !closed; i++) {
        uint8_t b = 'x';
        if (SSL_write(ssl, &b, 1) != 1)
            break;
        closed = harness_raw_closed(ssl, 200);
    }
    if (!closed)
        closed = harness_raw_closed(ssl, 2000);
    assert_true(closed);
    assert_true(harness_now_ms() - t0 < 3500);
    harness_raw_close(ssl);
}

static void test_busy_client_sending_frames_back_to_back_is_not_dropped(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    long long t0 = harness_now_ms();
    uint64_t id = 1;

    (void)state;
    assert_non_null(ssl);
    req.actor = "busy";
    req.protocol_version = 1;
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    /* 3 s of steady traffic against a 1 s frame deadline: each frame has
     * its own deadline, so none of them is late. */
    while (harness_now_ms() - t0 < 3000) {
        uint8_t *buf;
        size_t len;
        Ritra__Response *resp;

        req.id = id++;
        assert_int_equal(frame_pack(&req.base, FRAME_MAX_LEN, &buf, &len), 0);
        assert_int_equal(SSL_write(ssl, buf, (int)len), (int)len);
        free(buf);
        resp = harness_raw_read(ssl, 2000);
        assert_non_null(resp);
        assert_int_equal(resp->status->code, RITRA__STATUS_CODE__OK);
        ritra__response__free_unpacked(resp, NULL);
        usleep(250000);
    }
    harness_raw_close(ssl);
}

static void test_tcp_peer_without_handshake_is_dropped(void **state)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    long long t0 = harness_now_ms();
    struct pollfd pfd;
    char b;

    (void)state;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)H.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    pfd.fd = fd;
    pfd.events = POLLIN;
    assert_int_equal(poll(&pfd, 1, 4000), 1);
    assert_true(read(fd, &b, 1) <= 0); /* closed, not data */
    assert_true(harness_now_ms() - t0 < 3500);
    close(fd);
}

static void test_per_agency_connection_cap(void **state)
{
    struct ritra_conn *c[4];
    struct ritra_error err;
    struct ritra_ping_result res;

    (void)state;
    for (int i = 0; i < 3; i++) {
        c[i] = harness_connect(&H, "PONAL", &err);
        assert_non_null(c[i]);
        assert_int_equal(ritra_ping(c[i], &res, &err), 0);
    }
    c[3] = harness_connect(&H, "PONAL", &err);
    if (c[3] != NULL) {
        assert_int_equal(ritra_ping(c[3], &res, &err), -1);
        ritra_close(c[3]);
    }
    assert_int_equal(err.code, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED);
    /* Another agency is not affected by PONAL's cap. */
    c[3] = harness_connect(&H, "FGN", &err);
    assert_non_null(c[3]);
    assert_int_equal(ritra_ping(c[3], &res, &err), 0);
    ritra_close(c[3]);
    for (int i = 0; i < 3; i++)
        ritra_close(c[i]);
}

static void test_sigterm_drains_and_exits_cleanly(void **state)
{
    SSL *ssl = harness_raw_connect(&H, "FGN");
    Ritra__Response *resp;
    int status;

    (void)state;
    assert_non_null(ssl);
    usleep(100000); /* identification done */
    status = harness_server_stop(&H, SIGTERM, 10000);
    assert_true(status >= 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The open connection was told why before it was closed. */
    resp = harness_raw_read(ssl, 2000);
    assert_non_null(resp);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__UNAVAILABLE);
    ritra__response__free_unpacked(resp, NULL);
    harness_raw_close(ssl);
    assert_true(harness_log_count(&H, "event=draining") == 1);
    assert_true(harness_log_count(&H, "event=stopped") == 1);
    /* Bring it back for teardown symmetry. */
    assert_int_equal(harness_server_start(&H), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_client_is_dropped_after_idle_timeout),
        cmocka_unit_test(test_trickling_client_is_dropped_by_the_frame_deadline),
        cmocka_unit_test(test_busy_client_sending_frames_back_to_back_is_not_dropped),
        cmocka_unit_test(test_tcp_peer_without_handshake_is_dropped),
        cmocka_unit_test(test_per_agency_connection_cap),
        cmocka_unit_test(test_sigterm_drains_and_exits_cleanly),
    };

    return cmocka_run_group_tests_name("integration-limits", tests, setup, teardown);
}
