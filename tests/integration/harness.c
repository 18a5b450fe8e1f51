#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/err.h>

#include "frame.h"

static const char *const demo_agencies[][3] = {
    {"FGN", "Fiscalía General de la Nación", "prosecutor"},
    {"PONAL", "Policía Nacional", "police"},
    {"MIGRACION", "Migración Colombia", "migration"},
    {"ICBF", "Instituto Colombiano de Bienestar Familiar", "victim_services"},
    {"PGN", "Procuraduría General de la Nación", "auditor"},
    {"MININTERIOR", "Ministerio del Interior", "coordinator"},
};

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

long long harness_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv, stdout/stderr to the harness's tool log; returns the exit code. */
static int run(struct harness *h, const char *const *argv)
{
    char path[400];
    pid_t pid;
    int status;

    snprintf(path, sizeof(path), "%s/tools.log", h->dir);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int harness_sql(struct harness *h, const char *sql)
{
    PGconn *pg = PQconnectdb(h->db_admin);
    PGresult *r;
    int rc = -1;

    if (PQstatus(pg) == CONNECTION_OK) {
        r = PQexec(pg, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
            rc = 0;
        else
            fprintf(stderr, "harness_sql: %s", PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "harness_sql: %s", PQerrorMessage(pg));
    }
    PQfinish(pg);
    return rc;
}

int harness_pg(struct harness *h, const char *action)
{
    char script[400];
    const char *argv[] = {"bash", script, action, h->pg_dir, NULL};

    snprintf(script, sizeof(script), "%s/tools/pg-cluster.sh", env_or("RITRA_SRCDIR", "."));
    return run(h, argv);
}

int harness_admin(struct harness *h, const char *const *args)
{
    const char *argv[32];
    int n = 0;

    argv[n++] = env_or("RITRA_ADMIN_BIN", "ritra-admin");
    argv[n++] = "--db";
    argv[n++] = h->db_admin;
    while (*args != NULL && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    return run(h, argv);
}

int harness_log_count(struct harness *h, const char *needle)
{
    FILE *f = fopen(h->log, "r");
    char line[4096];
    int n = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    fclose(f);
    return n;
}

int harness_server_start(struct harness *h)
{
    const char *bin = env_or("RITRA_SERVER_BIN", "ritra-server");
    int before = harness_log_count(h, "event=listening");
    long long deadline;

    h->server = fork();
    if (h->server < 0)
        return -1;
    if (h->server == 0) {
        int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        execl(bin, bin, "--config", h->conf, (char *)NULL);
        _exit(127);
    }
    deadline = harness_now_ms() + 15000;
    while (harness_now_ms() < deadline) {
        int status;
        if (harness_log_count(h, "event=listening") > before)
            return 0;
        if (waitpid(h->server, &status, WNOHANG) == h->server) {
            fprintf(stderr, "harness: server exited during start-up; see %s\n", h->log);
            h->server = 0;
            return -1;
        }
        usleep(20000);
    }
    fprintf(stderr, "harness: server did not start listening; see %s\n", h->log);
    return -1;
}

int harness_server_stop(struct harness *h, int sig, int timeout_ms)
{
    long long deadline = harness_now_ms() + timeout_ms;
    int status;

    if (h->server <= 0)
        return -1;
    kill(h->server, sig);
    while (harness_now_ms() < deadline) {
        if (waitpid(h->server, &status, WNOHANG) == h->server) {
            h->server = 0;
            return status;
        }
        usleep(10000);
    }
    return -1;
}

static int write_conf(struct harness *h, const char *extra)
{
    FILE *f = fopen(h->conf, "w");

    if (f == NULL)
        return -1;
    fprintf(f,
            "listen = %s\n"
            "database = %s\n"
            "migrate_database = %s\n"
            "migrations_dir = %s/migrations\n"
            "tls_cert = %s/server.crt\n"
            "tls_key = %s/server.key\n"
            "tls_ca = %s/ca.crt\n"
            "tls_crl = %s/crl.pem\n"
            "audit_signing_key = %s/audit-signing.key\n"
            "log_level = debug\n"
            "%s\n",
            h->addr, h->db_app, h->db_admin, env_or("RITRA_SRCDIR", "."), h->pki, h->pki, h->pki,
            h->pki, h->pki, extra ? extra : "");
    return fclose(f);
}

static int register_demo(struct harness *h)
{
    char crt[400];

    for (size_t i = 0; i < sizeof(demo_agencies) / sizeof(demo_agencies[0]); i++) {
        const char *add[] = {"agency",
                             "add",
                             demo_agencies[i][0],
                             "--name",
                             demo_agencies[i][1],
                             "--kind",
                             demo_agencies[i][2],
                             NULL};
        const char *pin[] = {"cert", "add", demo_agencies[i][0], crt, NULL};

        snprintf(crt, sizeof(crt), "%s/%s.crt", h->pki, demo_agencies[i][0]);
        if (harness_admin(h, add) != 0 || harness_admin(h, pin) != 0)
            return -1;
    }
    /* The revoked and expired certificates belong to FGN too: the registry
     * would accept them, so only TLS can be what refuses them. */
    snprintf(crt, sizeof(crt), "%s/revoked.crt", h->pki);
    {
        const char *pin[] = {"cert", "add", "FGN", crt, NULL};
        if (harness_admin(h, pin) != 0)
            return -1;
    }
    return 0;
}

int harness_start(struct harness *h, const char *extra_conf)
{
    char script[400], created[600];
    const char *src = env_or("RITRA_SRCDIR", ".");

    memset(h, 0, sizeof(*h));
    signal(SIGPIPE, SIG_IGN);
    snprintf(h->dir, sizeof(h->dir), "/tmp/ritra-it-XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    /* The cluster runs as postgres when we are root: it must reach its folder. */
    chmod(h->dir, 0755);
    snprintf(h->pki, sizeof(h->pki), "%s/pki", h->dir);
    snprintf(h->pg_dir, sizeof(h->pg_dir), "%s/pg", h->dir);
    snprintf(h->conf, sizeof(h->conf), "%s/ritra.conf", h->dir);
    snprintf(h->log, sizeof(h->log), "%s/server.log", h->dir);
    h->port = free_port();
    snprintf(h->addr, sizeof(h->addr), "127.0.0.1:%d", h->port);
    snprintf(h->db_admin, sizeof(h->db_admin), "host=%s/sock port=5432 user=postgres dbname=ritra",
             h->pg_dir);
    snprintf(h->db_app, sizeof(h->db_app), "host=%s/sock port=5432 user=ritra_app dbname=ritra",
             h->pg_dir);

    snprintf(script, sizeof(script), "%s/certs/mkpki.sh", src);
    {
        const char *argv[] = {"bash", script, h->pki, NULL};
        if (run(h, argv) != 0) {
            fprintf(stderr, "harness: mkpki.sh failed; see %s/tools.log\n", h->dir);
            return -1;
        }
    }
    if (harness_pg(h, "start") != 0) {
        fprintf(stderr, "harness: pg-cluster.sh start failed; see %s/tools.log\n", h->dir);
        return -1;
    }
    {
        PGconn *pg;
        snprintf(created, sizeof(created), "host=%s/sock port=5432 user=postgres dbname=postgres",
                 h->pg_dir);
        pg = PQconnectdb(created);
        PQclear(PQexec(pg, "CREATE DATABASE ritra"));
        PQfinish(pg);
    }
    if (write_conf(h, extra_conf) < 0)
        return -1;
    {
        const char *argv[] = {env_or("RITRA_SERVER_BIN", "ritra-server"), "migrate", "--config",
                              h->conf, NULL};
        if (run(h, argv) != 0) {
            fprintf(stderr, "harness: migrate failed; see %s/tools.log\n", h->dir);
            return -1;
        }
    }
    if (register_demo(h) < 0) {
        fprintf(stderr, "harness: ritra-admin failed; see %s/tools.log\n", h->dir);
        return -1;
    }
    return harness_server_start(h);
}

void harness_stop(struct harness *h)
{
    char cmd[600];

    if (h->server > 0 && harness_server_stop(h, SIGTERM, 10000) < 0)
        harness_server_stop(h, SIGKILL, 5000);
    harness_pg(h, "stop");
    if (getenv("RITRA_KEEP_TEST_DIR") != NULL) {
        fprintf(stderr, "harness: kept %s\n", h->dir);
        return;
    }
    if (h->dir[0] != '\0' && strncmp(h->dir, "/tmp/ritra-it-", 14) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", h->dir);
    }
}

void harness_opts(struct harness *h, const char *cert, struct ritra_opts *opts)
{
    static char ca[400], crt[400], key[400];

    memset(opts, 0, sizeof(*opts));
    snprintf(ca, sizeof(ca), "%s/ca.crt", h->pki);
    opts->addr = h->addr;
    opts->ca_file = ca;
    opts->actor = "harness";
    opts->connect_timeout_ms = 5000;
    opts->io_timeout_ms = 10000;
    if (cert != NULL) {
        snprintf(crt, sizeof(crt), "%s/%s.crt", h->pki, cert);
        snprintf(key, sizeof(key), "%s/%s.key", h->pki, cert);
        opts->cert_file = crt;
        opts->key_file = key;
    }
}

struct ritra_conn *harness_connect(struct harness *h, const char *cert, struct ritra_error *err)
{
    struct ritra_opts opts;

    harness_opts(h, cert, &opts);
    return ritra_connect(&opts, err);
}

SSL *harness_raw_connect(struct harness *h, const char *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    struct sockaddr_in sin;
    char path[400];
    SSL *ssl = NULL;
    int fd = -1;

    if (ctx == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/ca.crt", h->pki);
    SSL_CTX_load_verify_locations(ctx, path, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert != NULL) {
        snprintf(path, sizeof(path), "%s/%s.crt", h->pki, cert);
        SSL_CTX_use_certificate_chain_file(ctx, path);
        snprintf(path, sizeof(path), "%s/%s.key", h->pki, cert);
        SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM);
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)h->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        goto fail;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        goto fail;
    SSL_CTX_free(ctx); /* ssl keeps its own reference */
    return ssl;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return NULL;
}

void harness_raw_close(SSL *ssl)
{
    int fd;

    if (ssl == NULL)
        return;
    fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
}

/* Reads exactly len bytes, waiting at most until deadline. */
static int raw_read_full(SSL *ssl, uint8_t *buf, size_t len, long long deadline)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd pfd = {SSL_get_fd(ssl), POLLIN, 0};
        long long left = deadline - harness_now_ms();
        int n;

        if (SSL_pending(ssl) == 0) {
            if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
                return -1;
        }
        n = SSL_read(ssl, buf + got, (int)(len - got));
        if (n <= 0) {
            int e = SSL_get_error(ssl, n);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

Ritra__Response *harness_raw_read(SSL *ssl, int timeout_ms)
{
    long long deadline = harness_now_ms() + timeout_ms;
    uint8_t hdr[FRAME_HEADER_LEN], *buf;
    uint32_t len = 0;
    Ritra__Response *resp;

    if (raw_read_full(ssl, hdr, sizeof(hdr), deadline) < 0)
        return NULL;
    if (frame_peek(hdr, sizeof(hdr), FRAME_MAX_LEN, &len) == FRAME_TOO_LARGE)
        return NULL;
    buf = malloc(len ? len : 1);
    if (buf == NULL || raw_read_full(ssl, buf, len, deadline) < 0) {
        free(buf);
        return NULL;
    }
    resp = ritra__response__unpack(NULL, len, buf);
    free(buf);
    return resp;
}

bool harness_raw_closed(SSL *ssl, int timeout_ms)
{
    long long deadline = harness_now_ms() + timeout_ms;
    uint8_t b[4096];

    while (harness_now_ms() < deadline) {
        struct pollfd pfd = {SSL_get_fd(ssl), POLLIN, 0};
        int n;

        if (SSL_pending(ssl) == 0 && poll(&pfd, 1, (int)(deadline - harness_now_ms())) <= 0)
            return false;
        n = SSL_read(ssl, b, sizeof(b));
        if (n <= 0) {
            int e = SSL_get_error(ssl, n);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ)
                continue;
            return true;
        }
    }
    return false;
}
