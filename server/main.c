/*
 * ritra-server: the exchange. `ritra-server [options]` runs it,
 * `ritra-server migrate [options]` applies the schema, `--check-config`
 * validates a configuration without starting anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "migrate.h"
#include "ritra_config.h"
#include "server.h"
#include "tls.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ritra-server [options]            run the server\n"
                 "       ritra-server migrate [options]    apply pending schema migrations\n"
                 "\n"
                 "options:\n"
                 "  -c, --config FILE        configuration file (key = value lines)\n"
                 "      --listen HOST:PORT   address to listen on (default 127.0.0.1:7443)\n"
                 "      --database CONNINFO  libpq connection string for the server role\n"
                 "      --set KEY=VALUE      set any configuration key (repeatable)\n"
                 "      --check-config       validate the configuration and TLS files, then exit\n"
                 "      --log-level LEVEL    debug, info, warn or error\n"
                 "  -h, --help               this text\n"
                 "      --version            print the version\n"
                 "\n"
                 "Every key is documented in docs/configuration.md and ritra.conf.example.\n");
}

static int apply_override(struct config *cfg, const char *key, const char *value)
{
    char err[512];

    if (config_set(cfg, key, value, err, sizeof(err)) < 0) {
        fprintf(stderr, "ritra-server: %s\n", err);
        return -1;
    }
    return 0;
}

struct override {
    char *key;
    const char *value;
};

#ifdef RITRA_BENCH_NO_AUDIT
/*
 * ritra-server-noaudit-bench (tools/bench/meson.build) is this program
 * built to write no audit entries, for tools/bench/audit-overhead only. It
 * must never serve anyone by mistake: without the variable it refuses to
 * run, and with it it says loudly what it is.
 */
static int bench_no_audit_allowed(void)
{
    const char *v = getenv("RITRA_BENCH_I_KNOW_NO_AUDIT");

    if (v == NULL || strcmp(v, "1") != 0) {
        fprintf(stderr, "ritra-server-noaudit-bench: BENCHMARK BUILD THAT WRITES NO AUDIT TRAIL;"
                        " refusing to run without RITRA_BENCH_I_KNOW_NO_AUDIT=1."
                        " Run ritra-server instead.\n");
        return 0;
    }
    log_msg(LOG_WARN, "bench_no_audit",
            "WARNING: benchmark build, NO AUDIT ENTRIES ARE WRITTEN; never use it to serve"
            " agencies (RITRA_BENCH_I_KNOW_NO_AUDIT=1)");
    return 1;
}
#endif

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"database", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"check-config", no_argument, NULL, 'k'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct override overrides[64];
    int noverrides = 0, check = 0, migrate = 0, ch, rc = 1;
    const char *config_path = NULL;
    struct config cfg;
    struct server *srv = NULL;
    char err[1024];

#ifdef RITRA_BENCH_NO_AUDIT
    if (!bench_no_audit_allowed())
        return 2;
#endif
    if (argc > 1 && strcmp(argv[1], "migrate") == 0) {
        migrate = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (ch) {
        case 'c':
            config_path = optarg;
            continue;
        case 'k':
            check = 1;
            continue;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("ritra-server %s\n", RITRA_VERSION);
            return 0;
        case 'l':
            key = "listen";
            break;
        case 'd':
            key = "database";
            break;
        case 'L':
            key = "log_level";
            break;
        case 's':
            break;
        default:
            usage(stderr);
            return 2;
        }
        if (noverrides == (int)(sizeof(overrides) / sizeof(overrides[0]))) {
            fprintf(stderr, "ritra-server: too many overrides\n");
            return 2;
        }
        if (key == NULL) { /* --set KEY=VALUE */
            char *eq = strchr(optarg, '=');
            if (eq == NULL) {
                fprintf(stderr, "ritra-server: --set expects KEY=VALUE\n");
                return 2;
            }
            *eq = '\0';
            overrides[noverrides].key = optarg;
            overrides[noverrides].value = eq + 1;
        } else {
            overrides[noverrides].key = (char *)key;
            overrides[noverrides].value = optarg;
        }
        noverrides++;
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (config_init(&cfg) < 0) {
        fprintf(stderr, "ritra-server: out of memory\n");
        return 1;
    }
    if (config_path != NULL && config_load_file(&cfg, config_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "ritra-server: %s\n", err);
        goto out;
    }
    /* Flags win over the file. */
    for (int i = 0; i < noverrides; i++)
        if (apply_override(&cfg, overrides[i].key, overrides[i].value) < 0)
            goto out;
    log_set_level((enum log_level)cfg.log_level);

    if (migrate) {
        const char *db = cfg.migrate_database ? cfg.migrate_database : cfg.database;
        const char *dir = cfg.migrations_dir ? cfg.migrations_dir : RITRA_MIGRATIONS_DIR;
        int n;

        if (db == NULL) {
            fprintf(stderr, "ritra-server: migrate needs migrate_database or database\n");
            goto out;
        }
        n = migrate_run(db, dir, err, sizeof(err));
        if (n < 0) {
            log_msg(LOG_ERROR, "migrate_failed", err);
            goto out;
        }
        {
            struct logline l;
            log_begin(&l, LOG_INFO, "migrate_done");
            log_i64(&l, "applied", n);
            log_end(&l);
        }
        rc = 0;
        goto out;
    }
    if (config_validate(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "ritra-server: configuration: %s\n", err);
        goto out;
    }
    if (check) {
        SSL_CTX *ctx;
        struct sockaddr_storage ss;
        int sslen = sizeof(ss);

        if (evutil_parse_sockaddr_port(cfg.listen, (struct sockaddr *)&ss, &sslen) < 0) {
            fprintf(stderr, "ritra-server: listen: \"%s\" is not an IP address and port\n",
                    cfg.listen);
            goto out;
        }
        ctx = tls_server_ctx_new(&cfg, err, sizeof(err));
        if (ctx == NULL) {
            fprintf(stderr, "ritra-server: %s\n", err);
            goto out;
        }
        SSL_CTX_free(ctx);
        if (cfg.audit_signing_key != NULL) {
            FILE *f = fopen(cfg.audit_signing_key, "r");
            EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
            if (f != NULL)
                fclose(f);
            if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(key);
                fprintf(stderr, "ritra-server: audit_signing_key %s: not an Ed25519 private key\n",
                        cfg.audit_signing_key);
                goto out;
            }
            EVP_PKEY_free(key);
        }
        printf("configuration ok\n");
        rc = 0;
        goto out;
    }
    srv = server_new(&cfg, err, sizeof(err));
    if (srv == NULL) {
        log_msg(LOG_ERROR, "start_failed", err);
        goto out;
    }
    {
        struct logline l;
        log_begin(&l, LOG_INFO, "starting");
        log_str(&l, "version", RITRA_VERSION);
        log_str(&l, "listen", cfg.listen);
        log_end(&l);
    }
    rc = server_run(srv) == 0 ? 0 : 1;
out:
    server_free(srv);
    config_clear(&cfg);
    return rc;
}
