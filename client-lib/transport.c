/*
 * libritra transport: non-blocking TCP + TLS and the mapping of their
 * failures to ritra errors. The socket never blocks; every wait goes
 * through poll() with a deadline, so no call can hang.
 */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rerror.h"

struct transport {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *bio_meth;
    char *addr; /* as given, for messages */
};

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
 * up here, as an alert on the first read, rather than in transport_open. */
static void tls_error(struct transport *t, int ssl_err, int saved_errno, const char *what,
                      struct ritra_error *err)
{
    unsigned long e, last = 0, refusal = 0;

    while ((e = ERR_get_error()) != 0) {
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && is_cert_refusal(ERR_GET_REASON(e)))
            refusal = e;
        last = e;
    }
    if (refusal && ERR_GET_REASON(refusal) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
        rerror_set(err, RITRA__STATUS_CODE__UNAUTHENTICATED,
                   "%s rejected the TLS handshake (alert \"%s\"): client certificate missing or "
                   "refused",
                   t->addr, alert_name(refusal));
    else if (refusal)
        rerror_set(err, RITRA__STATUS_CODE__UNAUTHENTICATED,
                   "%s refused the client certificate (alert \"%s\")", t->addr,
                   alert_name(refusal));
    else if (ssl_err == SSL_ERROR_ZERO_RETURN)
        rerror_set(err, RITRA_E_CLOSED, "%s closed the connection", t->addr);
    else if (last && ERR_GET_REASON(last) == SSL_R_CERTIFICATE_VERIFY_FAILED)
        rerror_set(err, RITRA_E_TLS, "certificate of %s not accepted: %s", t->addr,
                   X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
    else if (last && ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        rerror_set(err, RITRA_E_CLOSED, "%s closed the connection during %s", t->addr, what);
    else if (ssl_err == SSL_ERROR_SYSCALL && last == 0)
        rerror_set(err, RITRA_E_CLOSED, "%s: connection lost during %s: %s", t->addr, what,
                   saved_errno ? strerror(saved_errno) : "unexpected end of stream");
    else
        rerror_set(err, RITRA_E_TLS, "%s: TLS %s failed: %s", t->addr, what, ossl_reason(last));
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
            rerror_set(err, RITRA_E_USAGE, "address \"%s\": write IPv6 addresses as [addr]:port",
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
    rerror_set(err, RITRA_E_USAGE, "address \"%s\" is not host:port or [v6addr]:port", addr);
    return -1;
}

static int tcp_connect(struct transport *t, const char *host, const char *port, int64_t deadline,
                       int timeout_ms, struct ritra_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc, last_errno = 0, one = 1;

    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        rerror_set(err, RITRA_E_CONNECT, "cannot resolve %s: %s", host,
                   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && t->fd < 0; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        socklen_t len = sizeof(last_errno);

        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            t->fd = fd;
            break;
        }
        last_errno = errno;
        if (last_errno == EINPROGRESS) {
            rc = wait_fd(fd, POLLOUT, deadline);
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &last_errno, &len) == 0 &&
                last_errno == 0) {
                t->fd = fd;
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
    if (t->fd < 0) {
        if (last_errno == ETIMEDOUT && now_ms() >= deadline)
            rerror_set(err, RITRA_E_TIMEOUT, "connect to %s: no answer within %d ms", t->addr,
                       timeout_ms);
        else
            rerror_set(err, RITRA_E_CONNECT, "connect to %s: %s", t->addr, strerror(last_errno));
        return -1;
    }
    /* Requests are small and answered one by one; Nagle would hold them. */
    (void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

static int tls_ctx_setup(struct transport *t, const struct ritra_opts *o, struct ritra_error *err)
{
    const char *key = o->key_file ? o->key_file : o->cert_file;
    char why[256];

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL) {
        rerror_set(err, RITRA_E_NOMEM, "cannot create TLS context: %s",
                   ossl_reason(ERR_peek_last_error()));
        return -1;
    }
    /* TLS 1.3 is negotiated whenever the server has it; 1.2 is the floor,
     * limited to forward-secret AEAD suites. */
    if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(t->ctx, "ECDHE+AESGCM:ECDHE+CHACHA20")) {
        rerror_set(err, RITRA_E_TLS, "cannot configure TLS: %s",
                   ossl_reason(ERR_peek_last_error()));
        return -1;
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
    if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
        rerror_set(err, RITRA_E_USAGE, "cannot load CA file %s: %s", o->ca_file,
                   load_reason(why, sizeof(why)));
        return -1;
    }
    if (o->cert_file == NULL)
        return 0;
    if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1) {
        rerror_set(err, RITRA_E_USAGE, "cannot load client certificate %s: %s", o->cert_file,
                   load_reason(why, sizeof(why)));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        rerror_set(err, RITRA_E_USAGE,
                   "cannot use private key %s (an unencrypted PEM key matching %s): %s", key,
                   o->cert_file, load_reason(why, sizeof(why)));
        return -1;
    }
    return 0;
}

static int tls_handshake(struct transport *t, const char *host, int64_t deadline, int timeout_ms,
                         struct ritra_error *err)
{
    unsigned char ip[sizeof(struct in6_addr)];
    BIO *bio;

    t->ssl = SSL_new(t->ctx);
    t->bio_meth = sock_bio_method();
    if (t->ssl == NULL || t->bio_meth == NULL || (bio = BIO_new(t->bio_meth)) == NULL) {
        rerror_set(err, RITRA_E_NOMEM, "cannot create TLS session");
        return -1;
    }
    BIO_set_data(bio, &t->fd);
    SSL_set_bio(t->ssl, bio, bio);
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
        /* No SNI for literal addresses (RFC 6066); match the certificate's IP SAN. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
            goto setup_failed;
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set_tlsext_host_name(t->ssl, host) != 1 || SSL_set1_host(t->ssl, host) != 1)
            goto setup_failed;
    }
    for (;;) {
        int rc, e, saved;

        ERR_clear_error();
        errno = 0;
        rc = SSL_connect(t->ssl);
        if (rc == 1)
            return 0;
        saved = errno;
        e = SSL_get_error(t->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            tls_error(t, e, saved, "handshake", err);
            return -1;
        }
        rc = wait_fd(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (rc == 0) {
            rerror_set(err, RITRA_E_TIMEOUT, "TLS handshake with %s: no answer within %d ms",
                       t->addr, timeout_ms);
            return -1;
        }
        if (rc < 0) {
            rerror_set(err, RITRA_E_CONNECT, "poll: %s", strerror(errno));
            return -1;
        }
    }
setup_failed:
    rerror_set(err, RITRA_E_USAGE, "cannot set up certificate name check for \"%s\": %s", host,
               ossl_reason(ERR_peek_last_error()));
    return -1;
}

struct transport *transport_open(const struct ritra_opts *o, struct ritra_error *err)
{
    struct transport *t = NULL;
    char host[256], port[8];
    int64_t deadline;
    int timeout_ms;

    if (split_addr(o->addr, host, sizeof(host), port, sizeof(port), err) < 0)
        return NULL;
    timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : RITRA_DEFAULT_CONNECT_TIMEOUT;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto nomem;
    t->fd = -1;
    t->addr = strdup(o->addr);
    if (t->addr == NULL)
        goto nomem;
    if (tls_ctx_setup(t, o, err) < 0)
        goto fail;
    /* DNS is outside the deadline: getaddrinfo cannot be bounded portably. */
    deadline = now_ms() + timeout_ms;
    if (tcp_connect(t, host, port, deadline, timeout_ms, err) < 0)
        goto fail;
    if (tls_handshake(t, host, deadline, timeout_ms, err) < 0)
        goto fail;
    return t;
nomem:
    rerror_set(err, RITRA_E_NOMEM, "out of memory");
fail:
    transport_free(t, 0); /* no close_notify on a half-made connection */
    return NULL;
}

void transport_free(struct transport *t, int graceful)
{
    if (t == NULL)
        return;
    if (t->ssl != NULL && graceful) {
        /* One non-blocking attempt: close_notify is courtesy, not worth a wait. */
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
    }
    SSL_free(t->ssl); /* frees the BIO too */
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->bio_meth);
    if (t->fd >= 0)
        close(t->fd);
    free(t->addr);
    free(t);
    ERR_clear_error();
}

/* The common tail of SSL_read and SSL_write: bytes, "would block" or a
 * mapped error. */
static ssize_t io_result(struct transport *t, int rc, int saved_errno, const char *what,
                         short *want, struct ritra_error *err)
{
    int e;

    if (rc > 0)
        return rc;
    e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        ERR_clear_error();
        return 0;
    }
    tls_error(t, e, saved_errno, what, err);
    return -1;
}

ssize_t transport_read(struct transport *t, void *buf, size_t size, short *want,
                       struct ritra_error *err)
{
    int rc;

    ERR_clear_error();
    errno = 0;
    rc = SSL_read(t->ssl, buf, size > INT32_MAX ? INT32_MAX : (int)size);
    return io_result(t, rc, errno, "read", want, err);
}

ssize_t transport_write(struct transport *t, const void *buf, size_t len, short *want,
                        struct ritra_error *err)
{
    int rc;

    ERR_clear_error();
    errno = 0;
    rc = SSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    return io_result(t, rc, errno, "write", want, err);
}

int transport_wait(struct transport *t, short events, int timeout_ms)
{
    return wait_fd(t->fd, events, now_ms() + timeout_ms);
}

const char *transport_addr(const struct transport *t)
{
    return t->addr;
}
