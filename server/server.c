#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/listener.h>
#include <openssl/err.h>

#include "audit_chain.h"
#include "matcher.h"
#include "conn.h"
#include "grant_store.h"
#include "log.h"
#include "tls.h"

struct conn_node {
    struct conn *conn;
    struct conn_node *prev, *next;
};

struct agency_slot {
    char code[AGENCY_CODE_MAX + 1];
    int count;
    struct agency_slot *next;
};

struct server {
    const struct config *cfg;
    struct event_base *base;
    struct evconnlistener *listener;
    SSL_CTX *tls;
    struct db_pool *db;
    struct audit_chain *audit;
    struct matcher *matcher;
    struct conn_node *conns;
    int nconns;
    uint64_t next_conn_id;
    struct agency_slot *slots;
    struct event *sig_term, *sig_int, *sig_hup, *drain_timer, *listen_timer, *expire_timer;
    bool draining;
    bool listening;
    bool drain_cut; /* the drain deadline passed with requests in flight */
};

const struct config *server_config(const struct server *s)
{
    return s->cfg;
}

struct event_base *server_base(const struct server *s)
{
    return s->base;
}

struct db_pool *server_db(const struct server *s)
{
    return s->db;
}

struct matcher *server_matcher(const struct server *s)
{
    return s->matcher;
}

bool server_draining(const struct server *s)
{
    return s->draining;
}

bool server_agency_acquire(struct server *s, const char *code)
{
    struct agency_slot *slot;

    for (slot = s->slots; slot != NULL; slot = slot->next)
        if (strcmp(slot->code, code) == 0)
            break;
    if (slot == NULL) {
        slot = calloc(1, sizeof(*slot));
        if (slot == NULL)
            return false;
        snprintf(slot->code, sizeof(slot->code), "%s", code);
        slot->next = s->slots;
        s->slots = slot;
    }
    if (slot->count >= s->cfg->max_connections_per_agency)
        return false;
    slot->count++;
    return true;
}

void server_agency_release(struct server *s, const char *code)
{
    for (struct agency_slot *slot = s->slots; slot != NULL; slot = slot->next) {
        if (strcmp(slot->code, code) == 0) {
            slot->count--;
            return;
        }
    }
}

/* The conn list is only walked on drain; a node per conn keeps conn.c
 * ignorant of it. Lookups by pointer are O(n) but happen once per close. */
void server_conn_gone(struct server *s, struct conn *c)
{
    for (struct conn_node *n = s->conns; n != NULL; n = n->next) {
        if (n->conn != c)
            continue;
        if (n->prev)
            n->prev->next = n->next;
        else
            s->conns = n->next;
        if (n->next)
            n->next->prev = n->prev;
        free(n);
        s->nconns--;
        break;
    }
    if (s->draining && s->nconns == 0)
        event_base_loopexit(s->base, NULL);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct server *s = arg;
    struct conn_node *n;
    struct conn *c;

    (void)l;
    if (s->draining) {
        evutil_closesocket(fd);
        return;
    }
    if (s->nconns >= s->cfg->max_connections) {
        /* Before TLS: refusing costs nothing, and the log names no agency. */
        log_msg(LOG_WARN, "conn_limit", "max_connections reached, connection refused");
        evutil_closesocket(fd);
        return;
    }
    n = calloc(1, sizeof(*n));
    if (n == NULL) {
        evutil_closesocket(fd);
        return;
    }
    {
        /* Replies to pipelined requests must not wait for delayed ACKs. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c = conn_new(s, s->tls, fd, sa, salen, ++s->next_conn_id);
    if (c == NULL) {
        free(n);
        log_msg(LOG_ERROR, "conn_new_failed", "could not set up a connection");
        return;
    }
    n->conn = c;
    n->next = s->conns;
    if (s->conns)
        s->conns->prev = n;
    s->conns = n;
    s->nconns++;
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();

    (void)l;
    (void)arg;
    /* EMFILE and friends: keep serving who we have. */
    log_msg(LOG_ERROR, "accept_failed", evutil_socket_error_to_string(err));
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;

    (void)fd;
    (void)what;
    log_msg(LOG_WARN, "drain_timeout", "in-flight requests did not finish in time; exiting");
    s->drain_cut = true;
    event_base_loopexit(s->base, NULL);
}

static void start_drain(struct server *s)
{
    struct timeval tv;
    struct conn_node *n, *next;

    if (s->draining)
        return;
    s->draining = true;
    log_msg(LOG_INFO, "draining", "no new connections; finishing in-flight requests");
    if (s->listener != NULL)
        evconnlistener_disable(s->listener);
    for (n = s->conns; n != NULL; n = next) {
        next = n->next; /* conn_drain may unlink n */
        conn_drain(n->conn);
    }
    if (s->nconns == 0) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    tv.tv_sec = s->cfg->drain_timeout_ms / 1000;
    tv.tv_usec = (s->cfg->drain_timeout_ms % 1000) * 1000;
    evtimer_add(s->drain_timer, &tv);
}

static void reload_tls(struct server *s)
{
    char err[512];
    SSL_CTX *ctx = tls_server_ctx_new(s->cfg, err, sizeof(err));

    if (ctx == NULL) {
        log_msg(LOG_ERROR, "reload_failed", err);
        return;
    }
    /* Live connections hold their own reference to the old context. */
    SSL_CTX_free(s->tls);
    s->tls = ctx;
    log_msg(LOG_INFO, "reloaded", "certificates and CRL reloaded");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;

    (void)what;
    if (sig == SIGHUP)
        reload_tls(s);
    else
        start_drain(s);
}

static void on_db_ready(void *arg)
{
    struct server *s = arg;

    if (s->listening || s->draining)
        return;
    s->listening = true;
    evconnlistener_enable(s->listener);
    log_msg(LOG_INFO, "listening", s->cfg->listen);
}

static void expired_grants(int n, void *arg)
{
    struct logline l;

    (void)arg;
    if (n <= 0)
        return;
    log_begin(&l, LOG_INFO, "grants_expired");
    log_i64(&l, "count", n);
    log_end(&l);
}

/* Grants past their expiry stop counting at once (the level functions
 * compare with now()); this makes their recipients' feeds hear of it. */
static void on_expire_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;

    (void)fd;
    (void)what;
    if (!s->draining && db_pool_up(s->db) > 0)
        grant_store_expire(s->db, expired_grants, NULL);
}

/* A database that is down at start must not keep clients from hearing
 * UNAVAILABLE: listen anyway after a short grace period. */
static void on_listen_grace(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;

    (void)fd;
    (void)what;
    if (!s->listening)
        log_msg(LOG_WARN, "db_not_ready", "database not reachable yet; listening anyway");
    on_db_ready(s);
}

static int bind_listener(struct server *s, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);

    memset(&ss, 0, sizeof(ss));
    if (evutil_parse_sockaddr_port(s->cfg->listen, (struct sockaddr *)&ss, &sslen) < 0) {
        snprintf(err, errlen, "listen: cannot parse \"%s\" (expected host:port)", s->cfg->listen);
        return -1;
    }
    s->listener =
        evconnlistener_new_bind(s->base, on_accept, s,
                                /* REUSEABLE_PORT: several ritra-server
                                 * processes may share the port. */
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
                                    LEV_OPT_DISABLED | LEV_OPT_CLOSE_ON_EXEC,
                                512, (struct sockaddr *)&ss, sslen);
    if (s->listener == NULL) {
        snprintf(err, errlen, "listen %s: %s", s->cfg->listen, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    return 0;
}

struct server *server_new(const struct config *cfg, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof(*s));
    struct timeval grace = {3, 0}, expire_every = {cfg->grant_expiry_interval_ms / 1000,
                                                   (cfg->grant_expiry_interval_ms % 1000) * 1000};

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->base = event_base_new();
    if (s->base == NULL) {
        snprintf(err, errlen, "cannot create event base");
        goto fail;
    }
    s->tls = tls_server_ctx_new(cfg, err, errlen);
    if (s->tls == NULL)
        goto fail;
    if (bind_listener(s, err, errlen) < 0)
        goto fail;
    s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sig_hup = evsignal_new(s->base, SIGHUP, on_signal, s);
    s->drain_timer = evtimer_new(s->base, on_drain_timeout, s);
    s->listen_timer = evtimer_new(s->base, on_listen_grace, s);
    s->expire_timer = event_new(s->base, -1, EV_PERSIST, on_expire_tick, s);
    if (s->expire_timer == NULL || event_add(s->expire_timer, &expire_every) < 0) {
        snprintf(err, errlen, "cannot create timers");
        goto fail;
    }
    if (s->listen_timer == NULL || evtimer_add(s->listen_timer, &grace) < 0 ||
        s->sig_term == NULL || s->sig_int == NULL || s->sig_hup == NULL || s->drain_timer == NULL ||
        evsignal_add(s->sig_term, NULL) < 0 || evsignal_add(s->sig_int, NULL) < 0 ||
        evsignal_add(s->sig_hup, NULL) < 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        goto fail;
    }
    /* The listener opens once the database answers, so the first clients
     * are not refused for a pool still connecting. */
    s->db =
        db_pool_new(s->base, cfg->database, cfg->db_pool_size, cfg->db_timeout_ms, on_db_ready, s);
    s->audit =
        audit_chain_new(s->db, cfg->audit_signing_key, cfg->audit_chain_interval_ms, err, errlen);
    if (s->audit == NULL)
        goto fail;
    s->matcher = matcher_new(s->db, cfg);
    return s;
fail:
    server_free(s);
    return NULL;
}

int server_run(struct server *s)
{
    signal(SIGPIPE, SIG_IGN);
    if (event_base_dispatch(s->base) < 0)
        return -1;
    log_msg(LOG_INFO, "stopped", s->drain_cut ? "server exited, drain cut short" : "server exited");
    return s->drain_cut ? -1 : 0;
}

void server_free(struct server *s)
{
    struct agency_slot *slot, *next;

    if (s == NULL)
        return;
    while (s->conns != NULL)
        conn_abort(s->conns->conn);
    /* The pool first: freeing it fails the transactions still in flight,
     * and their callbacks (the audit chainer's, the matcher's) must find
     * their owners alive. Freeing the chainer first let a chain
     * transaction's callback write into freed memory at shutdown. */
    db_pool_free(s->db);
    audit_chain_free(s->audit);
    matcher_free(s->matcher);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->sig_term)
        event_free(s->sig_term);
    if (s->sig_int)
        event_free(s->sig_int);
    if (s->sig_hup)
        event_free(s->sig_hup);
    if (s->drain_timer)
        event_free(s->drain_timer);
    if (s->listen_timer)
        event_free(s->listen_timer);
    if (s->expire_timer)
        event_free(s->expire_timer);
    for (slot = s->slots; slot != NULL; slot = next) {
        next = slot->next;
        free(slot);
    }
    SSL_CTX_free(s->tls);
    if (s->base)
        event_base_free(s->base);
    free(s);
}
