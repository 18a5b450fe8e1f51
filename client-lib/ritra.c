/*
 * libritra: TCP + TLS transport, request/response matching and the typed
 * calls. The socket stays non-blocking and every wait goes through poll()
 * with a deadline, so no call can hang; the blocking API is built on top.
 */
#include "ritra.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "frame.h"

/* One TLS record's worth: big enough to amortise syscalls, small enough to
 * keep reading responses while a large batch is being written. */
#define IO_CHUNK 16384

struct ritra_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *bio_meth;
    struct frame_reader *reader;
    char *addr;  /* as given, for messages */
    char *actor; /* default Request.actor, never NULL */
    uint64_t last_id;
    int io_timeout_ms;
    uint32_t max_frame_len;
    unsigned max_in_flight;
    int failed;                 /* framing or TLS state lost: unusable */
    struct ritra_error failure; /* repeated to every call after failed */
};

/* One call in progress: the requests, where their responses go, and the
 * bytes packed but not yet written. */
struct exchange {
    const Ritra__Request *const *reqs;
    size_t n;
    Ritra__Response **resps;
    uint64_t *ids;         /* id sent for reqs[i] */
    struct id_slot *slots; /* ids sorted, for matching responses */
    size_t packed;         /* requests moved into out */
    size_t received;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
};

struct id_slot {
    uint64_t id;
    size_t index;
};

/* ---- errors ---- */

static size_t utf8_cut(const char *s, size_t max)
{
    /* s is longer than max: back up to the start of the cut character. */
    size_t n = max;

    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Bounded copy that never splits a UTF-8 sequence; sanitize replaces
 * control characters so server text cannot drive the caller's terminal. */
static void copy_text(char *dst, size_t size, const char *src, int sanitize)
{
    size_t len = src ? strlen(src) : 0;

    if (len >= size)
        len = utf8_cut(src, size - 1);
    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
    for (size_t i = 0; sanitize && i < len; i++) {
        unsigned char ch = (unsigned char)dst[i];

        if (ch < 0x20 || ch == 0x7f)
            dst[i] = '?';
    }
}

static void set_error(struct ritra_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct ritra_error *err, int code, const char *fmt, ...)
{
    char buf[sizeof(err->message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    err->code = code;
    copy_text(err->message, sizeof(err->message), buf, 1);
    err->details[0] = '\0';
}

static void clear_error(struct ritra_error *err)
{
    err->code = 0;
    err->message[0] = '\0';
    err->details[0] = '\0';
}

int ritra_error_from_status(const Ritra__Status *status, struct ritra_error *err)
{
    size_t used = 0;

    if (status == NULL || status->code == RITRA__STATUS_CODE__STATUS_UNSPECIFIED) {
        set_error(err, RITRA_E_PROTOCOL, "response carries no status");
        return RITRA_E_PROTOCOL;
    }
    err->code = status->code;
    copy_text(err->message, sizeof(err->message), status->message, 1);
    err->details[0] = '\0';
    for (size_t i = 0; i < status->n_details; i++) {
        const Ritra__FieldError *fe = status->details[i];
        size_t room = sizeof(err->details) - used;
        char path[256], reason[512];
        int w;

        if (fe == NULL)
            continue;
        copy_text(path, sizeof(path), fe->path, 1);
        copy_text(reason, sizeof(reason), fe->reason, 1);
        w = snprintf(err->details + used, room, "%s%s: %s", used ? "\n" : "", path, reason);
        if (w < 0 || (size_t)w >= room) {
            /* Whole lines only: a cut one would mislead more than help. */
            err->details[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    return status->code;
}

/* The connection can no longer be trusted to be in sync with the server:
 * remember why, so later calls fail fast with the same reason. */
static void conn_fail(struct ritra_conn *c, const struct ritra_error *err)
{
    if (!c->failed) {
        c->failed = 1;
        c->failure = *err;
    }
    ERR_clear_error();
}

/* ---- TLS error mapping ---- */

static int is_cert_refusal(int reason)
{
    switch (reason) {
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        return 1;
    default:
        return 0;
    }
}

static const char *ossl_reason(unsigned long e)
{
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    return r ? r : "unknown TLS error";
}

/* "sslv3 alert bad certificate" -> "bad certificate" */
static const char *alert_name(unsigned long e)
{
    const char *r = ossl_reason(e);
    const char *p = strstr(r, "alert ");

    return p ? p + strlen("alert ") : r;
}

/* Turns a failed SSL_connect/read/write into *err. In TLS 1.3 the server
 * judges our certificate after our handshake is done, so its refusal shows
 * up here, as an alert on the first read, rather than in ritra_connect. */
static void tls_error(struct ritra_conn *c, int ssl_err, int saved_errno, const char *what,
                      struct ritra_error *err)
{
    unsigned long e, last = 0, refusal = 0;

    while ((e = ERR_get_error()) != 0) {
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && is_cert_refusal(ERR_GET_REASON(e)))
            refusal = e;
        last = e;
    }
    if (refusal && ERR_GET_REASON(refusal) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
        set_error(err, RITRA__STATUS_CODE__UNAUTHENTICATED,
                  "%s rejected the TLS handshake (alert \"%s\"): client certificate missing or "
                  "refused",
                  c->addr, alert_name(refusal));
    else if (refusal)
        set_error(err, RITRA__STATUS_CODE__UNAUTHENTICATED,
                  "%s refused the client certificate (alert \"%s\")", c->addr, alert_name(refusal));
    else if (ssl_err == SSL_ERROR_ZERO_RETURN)
        set_error(err, RITRA_E_CLOSED, "%s closed the connection", c->addr);
    else if (last && ERR_GET_REASON(last) == SSL_R_CERTIFICATE_VERIFY_FAILED)
        set_error(err, RITRA_E_TLS, "certificate of %s not accepted: %s", c->addr,
                  X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
    else if (last && ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        set_error(err, RITRA_E_CLOSED, "%s closed the connection during %s", c->addr, what);
    else if (ssl_err == SSL_ERROR_SYSCALL && last == 0)
        set_error(err, RITRA_E_CLOSED, "%s: connection lost during %s: %s", c->addr, what,
                  saved_errno ? strerror(saved_errno) : "unexpected end of stream");
    else
        set_error(err, RITRA_E_TLS, "%s: TLS %s failed: %s", c->addr, what, ossl_reason(last));
    ERR_clear_error();
}

/* ---- socket BIO ---- */

/* OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * server has gone; a library must not kill or reconfigure its host process,
 * so this BIO sends with MSG_NOSIGNAL instead. */
static int sock_bio_write(BIO *b, const char *buf, int len)
{
    int fd = *(const int *)BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int sock_bio_read(BIO *b, char *buf, int len)
{
    int fd = *(const int *)BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = recv(fd, buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    else if (n == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return (int)n;
}

/* OpenSSL asks BIO_CTRL_EOF to tell a peer that hung up without
 * close_notify ("unexpected eof") from a socket error. */
static long sock_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default:
        return 0;
    }
}

static int sock_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *sock_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ritra socket");

    if (m == NULL)
        return NULL;
    if (!BIO_meth_set_write(m, sock_bio_write) || !BIO_meth_set_read(m, sock_bio_read) ||
        !BIO_meth_set_ctrl(m, sock_bio_ctrl) || !BIO_meth_set_create(m, sock_bio_create)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---- time and waiting ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns 1 when fd is ready, 0 at the deadline, -1 on a poll error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int64_t left = deadline - now_ms();
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* ---- connecting ---- */

/* "host:port" or "[v6]:port" -> host, port. */
static int split_addr(const char *addr, char *host, size_t host_size, char *port, size_t port_size,
                      struct ritra_error *err)
{
    const char *h = addr, *colon;
    size_t hlen;
    char *end;
    long num;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');

        if (close == NULL || close[1] != ':')
            goto bad;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            goto bad;
        if (memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
            set_error(err, RITRA_E_USAGE, "address \"%s\": write IPv6 addresses as [addr]:port",
                      addr);
            return -1;
        }
        hlen = (size_t)(colon - addr);
    }
    errno = 0;
    num = strtol(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= host_size || colon[1] < '0' || colon[1] > '9' || *end != '\0' ||
        errno != 0 || num < 1 || num > 65535)
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, port_size, "%ld", num);
    return 0;
bad:
    set_error(err, RITRA_E_USAGE, "address \"%s\" is not host:port or [v6addr]:port", addr);
    return -1;
}

static int tcp_connect(struct ritra_conn *c, const char *host, const char *port, int64_t deadline,
                       int timeout_ms, struct ritra_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc, last_errno = 0, one = 1;

    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        set_error(err, RITRA_E_CONNECT, "cannot resolve %s: %s", host,
                  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        socklen_t len = sizeof(last_errno);

        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            c->fd = fd;
            break;
        }
        last_errno = errno;
        if (last_errno == EINPROGRESS) {
            rc = wait_fd(fd, POLLOUT, deadline);
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &last_errno, &len) == 0 &&
                last_errno == 0) {
                c->fd = fd;
                break;
            }
            if (rc == 0)
                last_errno = ETIMEDOUT;
            else if (rc < 0)
                last_errno = errno;
        }
        close(fd);
        if (now_ms() >= deadline)
            break;
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        if (last_errno == ETIMEDOUT && now_ms() >= deadline)
            set_error(err, RITRA_E_TIMEOUT, "connect to %s: no answer within %d ms", c->addr,
                      timeout_ms);
        else
            set_error(err, RITRA_E_CONNECT, "connect to %s: %s", c->addr, strerror(last_errno));
        return -1;
    }
    /* Requests are small and answered one by one; Nagle would hold them. */
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

/* The most specific reason OpenSSL gave for failing to load a file: the
 * errno when there is one, else the innermost non-SSL reason (for example
 * "no start line" rather than the wrapper's "PEM lib"). Drains the queue. */
static const char *load_reason(char *buf, size_t size)
{
    unsigned long e, best = 0;

    while ((e = ERR_get_error()) != 0) {
        if (ERR_GET_LIB(e) == ERR_LIB_SYS) {
            snprintf(buf, size, "%s", strerror(ERR_GET_REASON(e)));
            ERR_clear_error();
            return buf;
        }
        if (best == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL)
            best = e;
    }
    snprintf(buf, size, "%s", ossl_reason(best));
    return buf;
}

/* Library code must never prompt on the terminal for a key passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int tls_ctx_setup(struct ritra_conn *c, const struct ritra_opts *o, struct ritra_error *err)
{
    const char *key = o->key_file ? o->key_file : o->cert_file;
    char why[256];

    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        set_error(err, RITRA_E_NOMEM, "cannot create TLS context: %s",
                  ossl_reason(ERR_peek_last_error()));
        return -1;
    }
    /* TLS 1.3 is negotiated whenever the server has it; 1.2 is the floor,
     * limited to forward-secret AEAD suites. */
    if (!SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(c->ctx, "ECDHE+AESGCM:ECDHE+CHACHA20")) {
        set_error(err, RITRA_E_TLS, "cannot configure TLS: %s", ossl_reason(ERR_peek_last_error()));
        return -1;
    }
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
    if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1) {
        set_error(err, RITRA_E_USAGE, "cannot load CA file %s: %s", o->ca_file,
                  load_reason(why, sizeof(why)));
        return -1;
    }
    if (o->cert_file == NULL)
        return 0;
    if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1) {
        set_error(err, RITRA_E_USAGE, "cannot load client certificate %s: %s", o->cert_file,
                  load_reason(why, sizeof(why)));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ctx) != 1) {
        set_error(err, RITRA_E_USAGE,
                  "cannot use private key %s (an unencrypted PEM key matching %s): %s", key,
                  o->cert_file, load_reason(why, sizeof(why)));
        return -1;
    }
    return 0;
}

static int tls_handshake(struct ritra_conn *c, const char *host, int64_t deadline, int timeout_ms,
                         struct ritra_error *err)
{
    unsigned char ip[sizeof(struct in6_addr)];
    BIO *bio;

    c->ssl = SSL_new(c->ctx);
    c->bio_meth = sock_bio_method();
    if (c->ssl == NULL || c->bio_meth == NULL || (bio = BIO_new(c->bio_meth)) == NULL) {
        set_error(err, RITRA_E_NOMEM, "cannot create TLS session");
        return -1;
    }
    BIO_set_data(bio, &c->fd);
    SSL_set_bio(c->ssl, bio, bio);
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
        /* No SNI for literal addresses (RFC 6066); match the certificate's IP SAN. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1)
            goto setup_failed;
    } else {
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set_tlsext_host_name(c->ssl, host) != 1 || SSL_set1_host(c->ssl, host) != 1)
            goto setup_failed;
    }
    for (;;) {
        int rc, e, saved;

        ERR_clear_error();
        errno = 0;
        rc = SSL_connect(c->ssl);
        if (rc == 1)
            return 0;
        saved = errno;
        e = SSL_get_error(c->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            tls_error(c, e, saved, "handshake", err);
            return -1;
        }
        rc = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (rc == 0) {
            set_error(err, RITRA_E_TIMEOUT, "TLS handshake with %s: no answer within %d ms",
                      c->addr, timeout_ms);
            return -1;
        }
        if (rc < 0) {
            set_error(err, RITRA_E_CONNECT, "poll: %s", strerror(errno));
            return -1;
        }
    }
setup_failed:
    set_error(err, RITRA_E_USAGE, "cannot set up certificate name check for \"%s\": %s", host,
              ossl_reason(ERR_peek_last_error()));
    return -1;
}

struct ritra_conn *ritra_connect(const struct ritra_opts *o, struct ritra_error *err)
{
    struct ritra_error scratch;
    struct ritra_conn *c = NULL;
    char host[256], port[8];
    int64_t deadline;
    int timeout_ms;

    if (err == NULL)
        err = &scratch;
    clear_error(err);
    if (o == NULL || o->addr == NULL || o->ca_file == NULL) {
        set_error(err, RITRA_E_USAGE, "server address and CA file are required");
        return NULL;
    }
    if (split_addr(o->addr, host, sizeof(host), port, sizeof(port), err) < 0)
        return NULL;
    timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : RITRA_DEFAULT_CONNECT_TIMEOUT;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    c->fd = -1;
    c->addr = strdup(o->addr);
    c->actor = strdup(o->actor ? o->actor : "");
    if (c->addr == NULL || c->actor == NULL)
        goto nomem;
    c->io_timeout_ms = o->io_timeout_ms > 0 ? o->io_timeout_ms : RITRA_DEFAULT_IO_TIMEOUT;
    c->max_frame_len =
        o->max_frame_len && o->max_frame_len <= FRAME_MAX_LEN ? o->max_frame_len : FRAME_MAX_LEN;
    c->max_in_flight = o->max_in_flight;
    c->reader = frame_reader_new(c->max_frame_len);

    if (tls_ctx_setup(c, o, err) < 0)
        goto fail;
    /* DNS is outside the deadline: getaddrinfo cannot be bounded portably. */
    deadline = now_ms() + timeout_ms;
    if (tcp_connect(c, host, port, deadline, timeout_ms, err) < 0)
        goto fail;
    if (tls_handshake(c, host, deadline, timeout_ms, err) < 0)
        goto fail;
    return c;
nomem:
    set_error(err, RITRA_E_NOMEM, "out of memory");
fail:
    if (c != NULL)
        c->failed = 1; /* no close_notify on a half-made connection */
    ritra_close(c);
    ERR_clear_error();
    return NULL;
}

void ritra_close(struct ritra_conn *c)
{
    if (c == NULL)
        return;
    if (c->ssl != NULL && !c->failed) {
        /* One non-blocking attempt: close_notify is courtesy, not worth a wait. */
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
    }
    SSL_free(c->ssl); /* frees the BIO too */
    SSL_CTX_free(c->ctx);
    BIO_meth_free(c->bio_meth);
    if (c->fd >= 0)
        close(c->fd);
    frame_reader_free(c->reader);
    free(c->addr);
    free(c->actor);
    free(c);
    ERR_clear_error();
}

/* ---- requests and responses ---- */

/* The packed copy of a request, with the defaults the library fills in. */
static Ritra__Request effective_request(const struct ritra_conn *c, const Ritra__Request *req,
                                        uint64_t id)
{
    Ritra__Request r = *req;

    r.id = id;
    if (r.actor == NULL || r.actor[0] == '\0')
        r.actor = c->actor;
    if (r.protocol_version == 0)
        r.protocol_version = RITRA_PROTOCOL_VERSION;
    return r;
}

static int cmp_slot(const void *a, const void *b)
{
    const struct id_slot *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Checks every request before a byte is sent, so that a usage error
 * leaves the connection usable. */
static int exchange_prepare(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    x->ids = calloc(x->n, sizeof(*x->ids));
    x->slots = calloc(x->n, sizeof(*x->slots));
    if (x->ids == NULL || x->slots == NULL) {
        set_error(err, RITRA_E_NOMEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < x->n; i++) {
        Ritra__Request r;
        size_t size;

        if (x->reqs[i] == NULL) {
            set_error(err, RITRA_E_USAGE, "request %zu is NULL", i);
            return -1;
        }
        x->ids[i] = x->reqs[i]->id ? x->reqs[i]->id : ++c->last_id;
        r = effective_request(c, x->reqs[i], x->ids[i]);
        size = ritra__request__get_packed_size(&r);
        if (size > c->max_frame_len) {
            set_error(err, RITRA_E_USAGE, "request %zu is %zu bytes, over the %u-byte frame limit",
                      i, size, c->max_frame_len);
            return -1;
        }
        x->slots[i].id = x->ids[i];
        x->slots[i].index = i;
    }
    qsort(x->slots, x->n, sizeof(*x->slots), cmp_slot);
    for (size_t i = 1; i < x->n; i++) {
        if (x->slots[i].id == x->slots[i - 1].id) {
            set_error(err, RITRA_E_USAGE, "request id %llu is used twice",
                      (unsigned long long)x->slots[i].id);
            return -1;
        }
    }
    return 0;
}

/* Moves requests into the output buffer while it is short of a chunk and
 * the in-flight window allows. */
static int exchange_fill(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    while (x->packed < x->n && x->out_len - x->out_off < IO_CHUNK &&
           (c->max_in_flight == 0 || x->packed - x->received < c->max_in_flight)) {
        Ritra__Request r = effective_request(c, x->reqs[x->packed], x->ids[x->packed]);
        uint8_t *frame;
        size_t len;

        if (frame_pack(&r.base, c->max_frame_len, &frame, &len) < 0) {
            set_error(err, RITRA_E_NOMEM, "cannot pack request %zu", x->packed);
            return -1;
        }
        if (x->out_off > 0) {
            memmove(x->out, x->out + x->out_off, x->out_len - x->out_off);
            x->out_len -= x->out_off;
            x->out_off = 0;
        }
        if (x->out_cap - x->out_len < len) {
            size_t cap = x->out_len + len + IO_CHUNK;
            uint8_t *nb = realloc(x->out, cap);

            if (nb == NULL) {
                free(frame);
                set_error(err, RITRA_E_NOMEM, "out of memory");
                return -1;
            }
            x->out = nb;
            x->out_cap = cap;
        }
        memcpy(x->out + x->out_len, frame, len);
        x->out_len += len;
        free(frame);
        x->packed++;
    }
    return 0;
}

static int exchange_accept(struct exchange *x, Ritra__Response *resp, struct ritra_error *err)
{
    struct id_slot key = {.id = resp->id}, *slot;

    if (resp->id == 0) {
        /* A connection-level error; the server closes after sending it. */
        if (ritra_error_from_status(resp->status, err) == RITRA__STATUS_CODE__OK)
            set_error(err, RITRA_E_PROTOCOL, "connection-level response (id 0) with status OK");
        return -1;
    }
    slot = bsearch(&key, x->slots, x->n, sizeof(*x->slots), cmp_slot);
    if (slot == NULL || x->resps[slot->index] != NULL) {
        set_error(err, RITRA_E_PROTOCOL, "unexpected response id %llu",
                  (unsigned long long)resp->id);
        return -1;
    }
    if (resp->status == NULL || resp->status->code == RITRA__STATUS_CODE__STATUS_UNSPECIFIED) {
        set_error(err, RITRA_E_PROTOCOL, "response %llu carries no status",
                  (unsigned long long)resp->id);
        return -1;
    }
    x->resps[slot->index] = resp;
    x->received++;
    return 0;
}

static int exchange_take_frames(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    for (;;) {
        const uint8_t *payload;
        uint32_t len = 0;
        Ritra__Response *resp;
        enum frame_status st = frame_reader_next(c->reader, &payload, &len);

        if (st == FRAME_NEED_MORE)
            return 0;
        if (st == FRAME_TOO_LARGE) {
            set_error(err, RITRA_E_PROTOCOL, "%s announced a frame over the %u-byte limit", c->addr,
                      c->max_frame_len);
            return -1;
        }
        resp = ritra__response__unpack(NULL, len, payload);
        if (resp == NULL) {
            set_error(err, RITRA_E_PROTOCOL, "%s sent a malformed Response (%u bytes)", c->addr,
                      len);
            return -1;
        }
        if (exchange_accept(x, resp, err) < 0) {
            ritra__response__free_unpacked(resp, NULL);
            return -1;
        }
    }
}

/* Reads until the socket would block; *want is what SSL needs to go on. */
static int exchange_read(struct ritra_conn *c, struct exchange *x, short *want,
                         struct ritra_error *err)
{
    uint8_t buf[IO_CHUNK];

    for (;;) {
        int rc, e, saved;

        ERR_clear_error();
        errno = 0;
        rc = SSL_read(c->ssl, buf, sizeof(buf));
        if (rc > 0) {
            if (frame_reader_feed(c->reader, buf, (size_t)rc) < 0) {
                set_error(err, RITRA_E_NOMEM, "out of memory");
                return -1;
            }
            if (exchange_take_frames(c, x, err) < 0)
                return -1;
            continue;
        }
        saved = errno;
        e = SSL_get_error(c->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            return 0;
        }
        tls_error(c, e, saved, "read", err);
        if (x->received == x->n) {
            /* The server closed right after answering (e.g. draining):
             * this call succeeded, the next one will report the close. */
            conn_fail(c, err);
            clear_error(err);
            *want = 0;
            return 0;
        }
        return -1;
    }
}

/* Writes until the socket would block (*want set) or nothing is left to
 * send for now (*want 0). */
static int exchange_write(struct ritra_conn *c, struct exchange *x, short *want,
                          struct ritra_error *err)
{
    *want = 0;
    for (;;) {
        size_t chunk;
        int rc, e, saved;

        if (exchange_fill(c, x, err) < 0)
            return -1;
        if (x->out_off == x->out_len)
            return 0;
        chunk = x->out_len - x->out_off;
        if (chunk > IO_CHUNK)
            chunk = IO_CHUNK;
        ERR_clear_error();
        errno = 0;
        rc = SSL_write(c->ssl, x->out + x->out_off, (int)chunk);
        if (rc > 0) {
            x->out_off += (size_t)rc;
            if (x->out_off == x->out_len)
                x->out_off = x->out_len = 0;
            continue;
        }
        saved = errno;
        e = SSL_get_error(c->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            return 0;
        }
        tls_error(c, e, saved, "write", err);
        return -1;
    }
}

static int exchange_run(struct ritra_conn *c, struct exchange *x, struct ritra_error *err)
{
    for (;;) {
        short rwant = 0, wwant = 0;
        int rc;

        if (exchange_read(c, x, &rwant, err) < 0)
            return -1;
        if (x->received == x->n)
            return 0;
        if (exchange_write(c, x, &wwant, err) < 0) {
            struct ritra_error why;

            /* A server that refuses us sends an alert or an id-0 Response
             * and closes; our write then fails with EPIPE/ECONNRESET, but
             * the reason is still waiting in the receive queue. */
            clear_error(&why);
            if (exchange_read(c, x, &rwant, &why) < 0 && why.code != RITRA_E_CLOSED)
                *err = why;
            return -1;
        }
        rc = wait_fd(c->fd, rwant | wwant, now_ms() + c->io_timeout_ms);
        if (rc == 0) {
            set_error(err, RITRA_E_TIMEOUT, "%s: no progress within %d ms (%zu of %zu answered)",
                      c->addr, c->io_timeout_ms, x->received, x->n);
            return -1;
        }
        if (rc < 0) {
            set_error(err, RITRA_E_CLOSED, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static int call_many(struct ritra_conn *c, const Ritra__Request *const *reqs, size_t n,
                     Ritra__Response **resps, struct ritra_error *err)
{
    struct exchange x = {.reqs = reqs, .n = n, .resps = resps};
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        resps[i] = NULL;
    if (n == 0)
        return 0;
    if (c->failed) {
        *err = c->failure;
        return -1;
    }
    if (exchange_prepare(c, &x, err) < 0)
        goto done;
    rc = exchange_run(c, &x, err);
    if (rc < 0)
        conn_fail(c, err);
done:
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            ritra__response__free_unpacked(resps[i], NULL);
            resps[i] = NULL;
        }
    }
    free(x.ids);
    free(x.slots);
    free(x.out);
    ERR_clear_error();
    return rc;
}

int ritra_call(struct ritra_conn *c, const Ritra__Request *req, Ritra__Response **resp,
               struct ritra_error *err)
{
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    clear_error(err);
    if (c == NULL || req == NULL || resp == NULL) {
        if (resp != NULL)
            *resp = NULL;
        set_error(err, RITRA_E_USAGE, "ritra_call: NULL argument");
        return -1;
    }
    return call_many(c, &req, 1, resp, err);
}

int ritra_call_batch(struct ritra_conn *c, Ritra__Request *const *reqs, size_t n,
                     Ritra__Response **resps, struct ritra_error *err)
{
    struct ritra_error scratch;

    if (err == NULL)
        err = &scratch;
    clear_error(err);
    if (c == NULL || (n > 0 && (reqs == NULL || resps == NULL))) {
        set_error(err, RITRA_E_USAGE, "ritra_call_batch: NULL argument");
        return -1;
    }
    return call_many(c, (const Ritra__Request *const *)reqs, n, resps, err);
}

/* ---- typed calls ---- */

static void copy_agency(struct ritra_agency *dst, const Ritra__Agency *src)
{
    if (src == NULL)
        return;
    copy_text(dst->code, sizeof(dst->code), src->code, 0);
    copy_text(dst->name, sizeof(dst->name), src->name, 0);
    dst->kind = src->kind;
    copy_text(dst->fingerprint, sizeof(dst->fingerprint), src->cert_fingerprint, 0);
}

int ritra_ping(struct ritra_conn *c, struct ritra_ping_result *out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Response *resp = NULL;
    struct ritra_error scratch;
    int rc = -1;

    if (err == NULL)
        err = &scratch;
    clear_error(err);
    if (out == NULL) {
        set_error(err, RITRA_E_USAGE, "ritra_ping: NULL argument");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    if (ritra_call(c, &req, &resp, err) < 0)
        return -1;
    if (resp->status->code != RITRA__STATUS_CODE__OK) {
        ritra_error_from_status(resp->status, err);
        goto done;
    }
    if (resp->result_case != RITRA__RESPONSE__RESULT_PING || resp->ping == NULL) {
        set_error(err, RITRA_E_PROTOCOL, "OK answer to ping carries no PingResult");
        goto done;
    }
    copy_text(out->server_version, sizeof(out->server_version), resp->ping->server_version, 0);
    out->protocol_version = resp->ping->protocol_version;
    copy_agency(&out->agency, resp->ping->agency);
    out->server_time_ms = resp->ping->server_time_ms;
    rc = 0;
done:
    ritra__response__free_unpacked(resp, NULL);
    return rc;
}

/* ---- names ---- */

const char *ritra_status_name(int code)
{
    static const char *const server[] = {
        "STATUS_UNSPECIFIED", "OK",          "INVALID_ARGUMENT", "UNAUTHENTICATED",
        "PERMISSION_DENIED",  "NOT_FOUND",   "ALREADY_EXISTS",   "FAILED_PRECONDITION",
        "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL",         "UNIMPLEMENTED",
        "DEADLINE_EXCEEDED",  "ABORTED",
    };
    static const char *const local[] = {
        "CONNECT", "TLS", "TIMEOUT", "PROTOCOL", "CLOSED", "USAGE", "NOMEM",
    };

    if (code >= 0 && (size_t)code < sizeof(server) / sizeof(server[0]))
        return server[code];
    if (code >= RITRA_E_CONNECT &&
        (size_t)(code - RITRA_E_CONNECT) < sizeof(local) / sizeof(local[0]))
        return local[code - RITRA_E_CONNECT];
    return "UNKNOWN";
}

int ritra_status_retryable(int code)
{
    switch (code) {
    case RITRA__STATUS_CODE__RESOURCE_EXHAUSTED:
    case RITRA__STATUS_CODE__UNAVAILABLE:
    case RITRA__STATUS_CODE__DEADLINE_EXCEEDED:
    case RITRA__STATUS_CODE__ABORTED:
    case RITRA_E_CONNECT:
    case RITRA_E_TLS:
    case RITRA_E_TIMEOUT:
    case RITRA_E_CLOSED:
        return 1;
    default:
        return 0;
    }
}

const char *ritra_agency_kind_name(int kind)
{
    static const char *const names[] = {
        "unspecified",     "prosecutor", "police",      "migration",
        "victim_services", "auditor",    "coordinator",
    };

    if (kind >= 0 && (size_t)kind < sizeof(names) / sizeof(names[0]))
        return names[kind];
    return "unknown";
}
