/*
 * Connection state machine:
 *
 *   HANDSHAKE --TLS done--> IDENTIFYING --registry says yes--> READY
 *       |                        |                               |
 *       +---- refused/timeout ---+-------- error/deadline -------+--> CLOSING --> DEAD
 *
 * One timer carries whichever deadline applies to the current state:
 * the handshake deadline (from accept, covering identification too), the
 * per-frame deadline (from a frame's first byte), the idle deadline (no
 * frame started, nothing in flight), the write deadline (a client that
 * stopped reading its replies) and the close deadline (flushing the last
 * error). Inactivity timers that reset on every byte would let a client
 * trickling one byte at a time hold a connection forever; these do not.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "audit.h"
#include "frame.h"
#include "log.h"
#include "request.h"
#include "server.h"
#include "tls.h"

#define CLOSE_FLUSH_MS 2000

enum conn_state { CONN_HANDSHAKE, CONN_IDENTIFYING, CONN_READY, CONN_CLOSING, CONN_DEAD };

enum conn_deadline { DL_NONE, DL_HANDSHAKE, DL_FRAME, DL_IDLE, DL_WRITE, DL_CLOSE };

struct conn {
    struct server *srv;
    const struct config *cfg;
    uint64_t id;
    enum conn_state state;
    enum conn_deadline deadline;
    struct bufferevent *bev;
    SSL *ssl;
    struct event *timer;
    int refs;
    int inflight;
    bool reading;       /* EV_READ enabled on bev */
    bool frame_started; /* some bytes of the next frame are buffered */
    bool counted;       /* holds one of its agency's connection slots */
    bool draining;
    bool handshake_done;
    bool in_read; /* inside conn_read_frames: replies must not re-enter it */
    struct agency agency;
    char peer[64];
    char close_reason[320];
};

static void conn_finish(struct conn *c);

static void audit_done(bool ok, void *arg)
{
    (void)ok;
    (void)arg;
}

/* A connection refused once its identity (a certificate) was known:
 * recorded like any request. Nothing waits for it. */
static void audit_refusal(struct conn *c, const char *fingerprint, const char *outcome,
                          const char *reason)
{
    struct audit_note n;
    struct audit_who who = {c->agency.code[0] ? &c->agency : NULL, fingerprint, "", 0};

    audit_note_init(&n, "connect");
    audit_note_detail(&n, "peer", c->peer);
    audit_note_detail(&n, "reason", reason);
    audit_write(server_db(c->srv), &n, &who, outcome, audit_done, NULL);
}
static void conn_read_frames(struct conn *c);

static const char *state_name(enum conn_state s)
{
    static const char *const names[] = {"handshake", "identifying", "ready", "closing", "dead"};
    return names[s];
}

static void log_conn(enum log_level lvl, const char *event, const struct conn *c,
                     const char *reason)
{
    struct logline l;

    log_begin(&l, lvl, event);
    log_u64(&l, "conn", c->id);
    log_str(&l, "peer", c->peer);
    if (c->agency.code[0])
        log_str(&l, "agency", c->agency.code);
    if (reason != NULL)
        log_str(&l, "reason", reason);
    log_end(&l);
}

static void set_deadline(struct conn *c, enum conn_deadline dl)
{
    int ms;
    struct timeval tv;

    if (dl == c->deadline && dl != DL_IDLE)
        return; /* keep counting from when it was first set */
    c->deadline = dl;
    switch (dl) {
    case DL_HANDSHAKE:
        ms = c->cfg->handshake_timeout_ms;
        break;
    case DL_FRAME:
    case DL_WRITE:
        ms = c->cfg->frame_timeout_ms;
        break;
    case DL_IDLE:
        ms = c->cfg->idle_timeout_ms;
        break;
    case DL_CLOSE:
        ms = CLOSE_FLUSH_MS;
        break;
    case DL_NONE:
    default:
        evtimer_del(c->timer);
        return;
    }
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(c->timer, &tv);
}

/* Picks the deadline that applies now that reading/in-flight changed. */
static void update_deadline(struct conn *c)
{
    if (c->state != CONN_READY)
        return;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > c->cfg->output_high_water)
        set_deadline(c, DL_WRITE);
    else if (c->frame_started && c->reading)
        set_deadline(c, DL_FRAME);
    else if (c->inflight == 0 && !c->frame_started)
        set_deadline(c, DL_IDLE);
    else
        set_deadline(c, DL_NONE);
}

static void set_reading(struct conn *c, bool on)
{
    if (c->reading == on || c->bev == NULL)
        return;
    c->reading = on;
    if (on)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

void conn_ref(struct conn *c)
{
    c->refs++;
}

void conn_unref(struct conn *c)
{
    if (--c->refs > 0)
        return;
    event_free(c->timer);
    free(c);
}

bool conn_open(const struct conn *c)
{
    return c->state == CONN_READY || c->state == CONN_IDENTIFYING;
}

const struct agency *conn_agency(const struct conn *c)
{
    return &c->agency;
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

/* Releases the socket and everything tied to it; the struct lives on until
 * the last in-flight request lets go of it. */
static void conn_finish(struct conn *c)
{
    if (c->state == CONN_DEAD)
        return;
    log_conn(LOG_INFO, "conn_closed", c, c->close_reason[0] ? c->close_reason : "closed");
    c->state = CONN_DEAD;
    evtimer_del(c->timer);
    if (c->bev != NULL) {
        /* bufferevent_free sends no close_notify of its own. */
        if (c->handshake_done && c->ssl != NULL) {
            SSL_set_quiet_shutdown(c->ssl, 0);
            if (SSL_shutdown(c->ssl) < 0)
                ERR_clear_error();
        }
        bufferevent_free(c->bev);
        c->bev = NULL;
        c->ssl = NULL;
    }
    if (c->counted) {
        server_agency_release(c->srv, c->agency.code);
        c->counted = false;
    }
    server_conn_gone(c->srv, c);
    conn_unref(c); /* the server's own reference */
}

void conn_close(struct conn *c, Ritra__StatusCode code, const char *reason)
{
    if (c->state == CONN_CLOSING || c->state == CONN_DEAD)
        return;
    if (c->close_reason[0] == '\0')
        snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    if (code != 0 && (c->state == CONN_READY || c->state == CONN_IDENTIFYING))
        request_send_status(c, 0, code, reason, NULL);
    set_reading(c, false);
    if (c->bev == NULL || !c->handshake_done ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_finish(c);
        return;
    }
    c->state = CONN_CLOSING;
    set_deadline(c, DL_CLOSE);
}

void conn_abort(struct conn *c)
{
    conn_finish(c);
}

void conn_drain(struct conn *c)
{
    c->draining = true;
    if (c->state == CONN_HANDSHAKE || c->state == CONN_IDENTIFYING) {
        conn_close(c, 0, "server shutting down");
        return;
    }
    if (c->state != CONN_READY)
        return;
    set_reading(c, false);
    if (c->inflight == 0)
        conn_close(c, RITRA__STATUS_CODE__UNAVAILABLE, "server shutting down");
}

void conn_send_response(struct conn *c, const Ritra__Response *resp)
{
    uint8_t *buf;
    size_t len;

    if (c->state != CONN_READY && c->state != CONN_IDENTIFYING)
        return;
    /* Replies are not bound by max_frame (that caps what we accept), only
     * by the protocol ceiling. */
    if (frame_pack(&resp->base, FRAME_MAX_LEN, &buf, &len) < 0) {
        log_conn(LOG_ERROR, "reply_encode_failed", c, "reply too large or encoder error");
        conn_close(c, RITRA__STATUS_CODE__INTERNAL, "reply could not be encoded");
        return;
    }
    if (bufferevent_write(c->bev, buf, len) < 0) {
        free(buf);
        conn_close(c, 0, "out of memory queueing a reply");
        return;
    }
    free(buf);
}

void conn_send_frame(struct conn *c, const uint8_t *frame, size_t len)
{
    if (c->state != CONN_READY && c->state != CONN_IDENTIFYING)
        return;
    if (bufferevent_write(c->bev, frame, len) < 0)
        conn_close(c, 0, "out of memory queueing a reply");
}

void conn_request_done(struct conn *c)
{
    if (c->inflight > 0)
        c->inflight--;
    if (c->state != CONN_READY)
        return;
    if (c->draining) {
        if (c->inflight == 0)
            conn_close(c, RITRA__STATUS_CODE__UNAVAILABLE, "server shutting down");
        return;
    }
    /* A reply may have freed an in-flight slot: read on. */
    if (!c->in_read)
        conn_read_frames(c);
}

static void conn_read_frames(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);

    conn_ref(c);
    c->in_read = true;
    while (c->state == CONN_READY && !c->draining) {
        uint8_t hdr[FRAME_HEADER_LEN];
        uint32_t len = 0;
        size_t avail = evbuffer_get_length(in);
        uint8_t *frame;
        char why[160];

        if (c->inflight >= c->cfg->max_inflight ||
            evbuffer_get_length(out) > c->cfg->output_high_water) {
            /* Backpressure: the client waits for replies before we read on. */
            set_reading(c, false);
            break;
        }
        set_reading(c, true);
        c->frame_started = avail > 0;
        if (avail < FRAME_HEADER_LEN)
            break;
        evbuffer_copyout(in, hdr, FRAME_HEADER_LEN);
        if (frame_peek(hdr, FRAME_HEADER_LEN, c->cfg->max_frame, &len) == FRAME_TOO_LARGE) {
            snprintf(why, sizeof(why), "frame of %u bytes exceeds the limit of %u bytes", len,
                     c->cfg->max_frame);
            log_conn(LOG_WARN, "frame_too_large", c, why);
            conn_close(c, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, why);
            break;
        }
        if (avail - FRAME_HEADER_LEN < len)
            break;
        frame = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HEADER_LEN + len));
        if (frame == NULL) {
            conn_close(c, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory");
            break;
        }
        c->inflight++;
        if (request_dispatch(c->srv, c, frame + FRAME_HEADER_LEN, len) < 0)
            break; /* the connection is closing */
        if (c->state != CONN_READY)
            break;
        evbuffer_drain(in, FRAME_HEADER_LEN + len);
        /* The next frame's deadline counts from its own first byte. */
        if (c->deadline == DL_FRAME)
            set_deadline(c, DL_NONE);
    }
    c->in_read = false;
    if (c->state == CONN_READY)
        c->frame_started = evbuffer_get_length(in) > 0;
    update_deadline(c);
    conn_unref(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (c->state == CONN_READY)
        conn_read_frames(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (c->state == CONN_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_finish(c);
        return;
    }
    /* Output fell below the low-water mark: a paused reader may resume. */
    if (c->state == CONN_READY && !c->draining && (!c->reading || c->deadline == DL_WRITE))
        conn_read_frames(c);
}

static void on_identified(enum agency_verdict verdict, const struct agency *a,
                          enum db_outcome outcome, const char *detail, void *arg)
{
    struct conn *c = arg;
    char why[256];

    (void)outcome;
    if (c->state != CONN_IDENTIFYING) {
        conn_unref(c);
        return;
    }
    if (a != NULL)
        c->agency = *a;
    if (verdict == AGENCY_LOOKUP_FAILED) {
        snprintf(why, sizeof(why), "agency registry unavailable: %s", detail ? detail : "");
        log_conn(LOG_WARN, "auth_unavailable", c, why);
        conn_close(c, RITRA__STATUS_CODE__UNAVAILABLE, "agency registry unavailable, retry later");
    } else if (verdict != AGENCY_ACCEPTED) {
        log_conn(LOG_WARN, "auth_refused", c, agency_verdict_reason(verdict));
        audit_refusal(c, c->agency.fingerprint, "UNAUTHENTICATED", agency_verdict_reason(verdict));
        conn_close(c, RITRA__STATUS_CODE__UNAUTHENTICATED, agency_verdict_reason(verdict));
    } else if (!server_agency_acquire(c->srv, c->agency.code)) {
        log_conn(LOG_WARN, "agency_conn_limit", c, "max_connections_per_agency reached");
        audit_refusal(c, c->agency.fingerprint, "RESOURCE_EXHAUSTED",
                      "max_connections_per_agency reached");
        conn_close(c, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED,
                   "too many connections for this agency");
    } else {
        c->counted = true;
        c->state = CONN_READY;
        log_conn(LOG_INFO, "conn_ready", c, NULL);
        if (server_draining(c->srv))
            conn_drain(c);
        else
            conn_read_frames(c);
    }
    conn_unref(c);
}

static void handshake_done(struct conn *c)
{
    X509 *cert = SSL_get1_peer_certificate(c->ssl);
    char subject[256];

    c->handshake_done = true;
    if (cert == NULL) { /* cannot happen with FAIL_IF_NO_PEER_CERT; refuse anyway */
        conn_close(c, 0, "no client certificate");
        return;
    }
    if (tls_cert_fingerprint(cert, c->agency.fingerprint) < 0 ||
        tls_cert_subject(cert, subject, sizeof(subject)) < 0) {
        X509_free(cert);
        conn_close(c, RITRA__STATUS_CODE__INTERNAL, "cannot read client certificate");
        return;
    }
    X509_free(cert);
    {
        struct logline l;
        log_begin(&l, LOG_DEBUG, "tls_established");
        log_u64(&l, "conn", c->id);
        log_str(&l, "version", SSL_get_version(c->ssl));
        log_str(&l, "subject", subject);
        log_str(&l, "fingerprint", c->agency.fingerprint);
        log_end(&l);
    }
    c->state = CONN_IDENTIFYING;
    set_reading(c, false); /* leave early frames buffered until we know who this is */
    conn_ref(c);
    agency_identify(server_db(c->srv), c->agency.fingerprint, on_identified, c);
}

/* Why a TLS failure happened, for the log line. */
static void tls_failure_reason(struct conn *c, char *out, size_t outlen)
{
    const char *verify = c->ssl ? tls_verify_failure(c->ssl) : NULL;
    unsigned long e = bufferevent_get_openssl_error(c->bev);

    if (verify != NULL)
        snprintf(out, outlen, "client certificate refused: %s", verify);
    else if (e != 0)
        ERR_error_string_n(e, out, outlen);
    else if (EVUTIL_SOCKET_ERROR() != 0)
        snprintf(out, outlen, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        snprintf(out, outlen, "connection closed during handshake");
    while (bufferevent_get_openssl_error(c->bev) != 0)
        ;
    ERR_clear_error();
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
    struct conn *c = arg;
    char why[256];

    (void)bev;
    if (events & BEV_EVENT_CONNECTED) {
        if (c->state == CONN_HANDSHAKE)
            handshake_done(c);
        return;
    }
    if (c->state == CONN_HANDSHAKE) {
        tls_failure_reason(c, why, sizeof(why));
        log_conn(LOG_WARN, "tls_refused", c, why);
        if (c->ssl != NULL && tls_refused_fingerprint(c->ssl) != NULL)
            audit_refusal(c, tls_refused_fingerprint(c->ssl), "UNAUTHENTICATED", why);
        snprintf(c->close_reason, sizeof(c->close_reason), "%s", why);
        conn_finish(c);
        return;
    }
    if (events & BEV_EVENT_ERROR) {
        /* libevent 2.1 reports a peer that left without close_notify as an
         * error; the length prefix already catches truncation, so it is an
         * ordinary close. */
        tls_failure_reason(c, why, sizeof(why));
        snprintf(c->close_reason, sizeof(c->close_reason), "peer gone: %s", why);
    } else if (events & BEV_EVENT_EOF) {
        snprintf(c->close_reason, sizeof(c->close_reason), "peer closed");
    }
    c->handshake_done = false; /* the peer is gone: no close_notify to send */
    conn_finish(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    enum conn_deadline dl = c->deadline;

    (void)fd;
    (void)what;
    c->deadline = DL_NONE;
    switch (dl) {
    case DL_HANDSHAKE:
        log_conn(LOG_WARN, "handshake_timeout", c, state_name(c->state));
        conn_close(c, 0, "handshake timeout");
        break;
    case DL_FRAME:
        log_conn(LOG_WARN, "frame_timeout", c, "frame not completed in time");
        conn_close(c, RITRA__STATUS_CODE__DEADLINE_EXCEEDED,
                   "frame not completed within frame_timeout");
        break;
    case DL_IDLE:
        log_conn(LOG_INFO, "idle_timeout", c, NULL);
        conn_close(c, RITRA__STATUS_CODE__DEADLINE_EXCEEDED, "idle timeout");
        break;
    case DL_WRITE:
        log_conn(LOG_WARN, "write_timeout", c, "client does not read its replies");
        c->handshake_done = false;
        conn_finish(c);
        break;
    case DL_CLOSE:
        conn_finish(c);
        break;
    case DL_NONE:
        break;
    }
}

struct conn *conn_new(struct server *srv, SSL_CTX *ctx, evutil_socket_t fd,
                      const struct sockaddr *peer, int peerlen, uint64_t id)
{
    struct conn *c = calloc(1, sizeof(*c));
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    (void)peerlen;
    if (c == NULL)
        goto fail;
    c->srv = srv;
    c->cfg = server_config(srv);
    c->id = id;
    c->refs = 1;
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)peer;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
    c->timer = evtimer_new(server_base(srv), on_deadline, c);
    c->ssl = SSL_new(ctx);
    if (c->timer == NULL || c->ssl == NULL)
        goto fail;
    c->bev = bufferevent_openssl_socket_new(server_base(srv), fd, c->ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL)
        goto fail;
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* Wake on_write when output drains below a quarter of the high-water
     * mark; no read watermark (it can stall OpenSSL bufferevents). */
    bufferevent_setwatermark(c->bev, EV_WRITE, c->cfg->output_high_water / 4, 0);
    c->state = CONN_HANDSHAKE;
    set_deadline(c, DL_HANDSHAKE);
    c->reading = true;
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
fail:
    if (c != NULL) {
        if (c->bev == NULL) {
            SSL_free(c->ssl);
            evutil_closesocket(fd);
        } else {
            bufferevent_free(c->bev);
        }
        if (c->timer != NULL)
            event_free(c->timer);
        free(c);
    } else {
        evutil_closesocket(fd);
    }
    ERR_clear_error();
    return NULL;
}
