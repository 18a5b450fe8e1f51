#include "bench_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "frame.h"

#define READ_CHUNK   65536
#define IO_TIMEOUT_S 60 /* a server that stops answering fails the run */

struct wire_ctx {
    SSL_CTX *ssl;
};

struct wire {
    int fd;
    SSL *ssl;
    uint8_t *in; /* bytes read, not yet taken as frames: in[off..len) */
    size_t off, len, cap;
};

static void ossl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, errlen, "%s: %s", what, e ? buf : "unknown TLS error");
    ERR_clear_error();
}

struct wire_ctx *wire_ctx_new(const char *ca, const char *cert, const char *key, char *err,
                              size_t errlen)
{
    struct wire_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL || (ctx->ssl = SSL_CTX_new(TLS_client_method())) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx->ssl, ca, NULL) != 1) {
        ossl_error(err, errlen, ca);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert) != 1) {
        ossl_error(err, errlen, cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx->ssl) != 1) {
        ossl_error(err, errlen, key ? key : cert);
        goto fail;
    }
    return ctx;
fail:
    wire_ctx_free(ctx);
    return NULL;
}

void wire_ctx_free(struct wire_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

/* "host:port" or "[v6]:port" into host and port. */
static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hl;

    if (colon == NULL || colon[1] == '\0')
        return -1;
    hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) >= portlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

static int tcp_connect(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int fd = -1, one = 1, rc;

    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        snprintf(err, errlen, "connect to %s:%s: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    /* Pipelined requests go out as soon as they are written. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

struct wire *wire_open(struct wire_ctx *ctx, const char *addr, char *err, size_t errlen)
{
    char host[256], port[16];
    unsigned char ip[16];
    struct wire *w;

    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0) {
        snprintf(err, errlen, "bad address \"%s\" (host:port)", addr);
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fd = tcp_connect(host, port, err, errlen);
    if (w->fd < 0) {
        free(w);
        return NULL;
    }
    w->ssl = SSL_new(ctx->ssl);
    if (w->ssl == NULL || SSL_set_fd(w->ssl, w->fd) != 1) {
        ossl_error(err, errlen, "TLS setup");
        goto fail;
    }
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(w->ssl), host) != 1) {
            ossl_error(err, errlen, "TLS setup");
            goto fail;
        }
    } else if (SSL_set1_host(w->ssl, host) != 1 || SSL_set_tlsext_host_name(w->ssl, host) != 1) {
        ossl_error(err, errlen, "TLS setup");
        goto fail;
    }
    if (SSL_connect(w->ssl) != 1) {
        ossl_error(err, errlen, "TLS handshake");
        goto fail;
    }
    return w;
fail:
    wire_close(w);
    return NULL;
}

void wire_close(struct wire *w)
{
    if (w == NULL)
        return;
    if (w->ssl != NULL) {
        SSL_shutdown(w->ssl);
        SSL_free(w->ssl);
    }
    if (w->fd >= 0)
        close(w->fd);
    free(w->in);
    free(w);
}

static void io_error(struct wire *w, int ret, const char *what, char *err, size_t errlen)
{
    int e = SSL_get_error(w->ssl, ret);

    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(err, errlen, "%s: the server closed the connection", what);
    else if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
        snprintf(err, errlen, "%s: no progress within %d s", what, IO_TIMEOUT_S);
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(err, errlen, "%s: %s", what, errno ? strerror(errno) : "connection closed");
    else
        ossl_error(err, errlen, what);
}

int wire_write_frames(struct wire *w, uint8_t *const *frames, const size_t *lens, size_t n,
                      char *err, size_t errlen)
{
    size_t total = 0, o = 0;
    uint8_t *buf;
    int rc;

    for (size_t i = 0; i < n; i++)
        total += lens[i];
    buf = malloc(total ? total : 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + o, frames[i], lens[i]);
        o += lens[i];
    }
    /* Blocking socket, no partial-write mode: all of it or an error. */
    rc = SSL_write(w->ssl, buf, (int)total);
    free(buf);
    if (rc <= 0) {
        io_error(w, rc, "write", err, errlen);
        return -1;
    }
    return 0;
}

/* Length of the whole frame at the front of the buffer, 0 if incomplete. */
static size_t whole_frame(const struct wire *w)
{
    uint32_t len = 0;
    size_t avail = w->len - w->off;

    if (avail < FRAME_HEADER_LEN)
        return 0;
    frame_peek(w->in + w->off, avail, FRAME_MAX_LEN, &len);
    return avail - FRAME_HEADER_LEN >= len ? FRAME_HEADER_LEN + (size_t)len : 0;
}

int wire_has_buffered(const struct wire *w)
{
    return whole_frame(w) > 0;
}

int wire_read_response(struct wire *w, Ritra__Response **resp, char *err, size_t errlen)
{
    size_t flen;

    *resp = NULL;
    while ((flen = whole_frame(w)) == 0) {
        int n;

        if (w->off > 0) {
            memmove(w->in, w->in + w->off, w->len - w->off);
            w->len -= w->off;
            w->off = 0;
        }
        if (w->cap - w->len < READ_CHUNK) {
            size_t cap = w->cap * 2 > w->len + READ_CHUNK ? w->cap * 2 : w->len + READ_CHUNK;
            uint8_t *nb = realloc(w->in, cap);

            if (nb == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            w->in = nb;
            w->cap = cap;
        }
        n = SSL_read(w->ssl, w->in + w->len, READ_CHUNK);
        if (n <= 0) {
            io_error(w, n, "read", err, errlen);
            return -1;
        }
        w->len += (size_t)n;
    }
    *resp =
        ritra__response__unpack(NULL, flen - FRAME_HEADER_LEN, w->in + w->off + FRAME_HEADER_LEN);
    w->off += flen;
    if (*resp == NULL) {
        snprintf(err, errlen, "malformed Response (%zu bytes)", flen);
        return -1;
    }
    return 1;
}
