/*
 * ritra: command-line client for the ritra case-exchange server, built on
 * libritra alone. This file holds what every command shares (flags,
 * connecting, errors, help, subcommands, paging) and the ping command; the
 * case commands are in cli_case.c, sync in cli_sync.c, share in
 * cli_share.c, audit in cli_audit.c, search and case matches in
 * cli_search.c, matches in cli_matches.c. Each command is one entry of the
 * commands[] table: adding one means writing its handler and help text.
 *
 * Exit status: see enum in cli.h; ritra --help prints the same list.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "pbjson.h"
#include "ritra.h"
#include "ritra_config.h"

#define MAX_PING_COUNT 1000000L
#define MAX_TIMEOUT_MS 86400000L

static const struct cli_command *const *find_command_entry(const char *name);
static const struct cli_command *find_command(const char *name);

/* ---- output helpers ---- */

/* Server-supplied text reaches a terminal: keep control characters out. */
const char *cli_clean(char *buf, size_t size, const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int cli_exit_for(int code)
{
    switch (code) {
    case RITRA__STATUS_CODE__UNAUTHENTICATED:
        return CLI_EXIT_UNAUTH;
    case RITRA_E_CONNECT:
    case RITRA_E_TLS:
    case RITRA_E_TIMEOUT:
    case RITRA_E_CLOSED:
        return CLI_EXIT_TRANSPORT;
    case RITRA_E_USAGE:
        return CLI_EXIT_USAGE;
    default:
        return code > RITRA__STATUS_CODE__OK && code < RITRA_E_CONNECT ? CLI_EXIT_STATUS
                                                                       : CLI_EXIT_INTERNAL;
    }
}

/* Prints "ritra: CODE: message" and the field details; returns the exit code. */
int cli_report(const struct ritra_error *err)
{
    const char *line = err->details;

    fprintf(stderr, "ritra: %s: %s\n", ritra_status_name(err->code), err->message);
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);

        fprintf(stderr, "  %.*s\n", len, line);
        line += len + (nl != NULL);
    }
    return cli_exit_for(err->code);
}

/* Prints "ritra: <message>" and a pointer to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("ritra: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'ritra --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_input_error(const char *fmt, ...)
{
    va_list ap;

    fputs("ritra: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_USAGE;
}

static int print_version(void)
{
    printf("ritra %s (protocol %u)\n", RITRA_VERSION, RITRA_PROTOCOL_VERSION);
    return CLI_EXIT_OK;
}

int cli_print_json(struct json_object *obj, int pretty)
{
    int flags =
        JSON_C_TO_STRING_NOSLASHESCAPE |
        (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *s = json_object_to_json_string_ext(obj, flags);
    int rc = s != NULL && puts(s) >= 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;

    json_object_put(obj);
    return rc;
}

int cli_print_message(const ProtobufCMessage *msg, int pretty, const char *what, size_t index)
{
    struct json_object *j = NULL;
    struct pbjson_error pe;
    char at[32] = "";

    if (pbjson_from_message(msg, &j, &pe) == 0)
        return cli_print_json(j, pretty);
    if (index != CLI_NO_INDEX)
        snprintf(at, sizeof(at), "[%zu]", index);
    fprintf(stderr, "ritra: PROTOCOL: %s%s%s%s: %s\n", what, at, pe.path[0] ? "." : "", pe.path,
            pe.reason);
    return CLI_EXIT_INTERNAL;
}

static struct json_object *json_decimal(double v)
{
    char buf[32];

    /* json-c prints doubles with 17 significant digits; three decimals
     * (microseconds, for times) are plenty. */
    snprintf(buf, sizeof(buf), "%.3f", v);
    return json_object_new_double_s(v, buf);
}

/* ---- flags ---- */

enum {
    OPT_ADDR = 1000,
    OPT_CA,
    OPT_CERT,
    OPT_KEY,
    OPT_ACTOR,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_HELP = CLI_OPT_HELP,
    OPT_VERSION = CLI_OPT_VERSION,
};

static const struct option global_options[] = {
    {"addr", required_argument, NULL, OPT_ADDR},
    {"ca", required_argument, NULL, OPT_CA},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"actor", required_argument, NULL, OPT_ACTOR},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
};

#define N_GLOBAL  (sizeof(global_options) / sizeof(global_options[0]))
#define MAX_LOCAL 16

int cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_expected_version(const char *arg, int64_t *out)
{
    long v;

    if (cli_parse_long(arg, 0, INT64_MAX, &v) < 0) {
        cli_usage_error("--expected-version wants a version number, not \"%s\"", arg);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_repeat(char **v, size_t *n, size_t cap, const char *flag, const char *value)
{
    if (*n >= cap) {
        cli_usage_error("at most %zu %s values", cap, flag);
        return -1;
    }
    v[(*n)++] = (char *)value;
    return 0;
}

/* Global flags work before or after the command name: every command's
 * getopt_long sees them too. */
int cli_getopt(struct cli *g, int argc, char **argv, const char *shortopts,
               const struct option *local)
{
    struct option all[N_GLOBAL + MAX_LOCAL + 1];
    size_t n = 0;

    for (; local != NULL && local[n].name != NULL && n < MAX_LOCAL; n++)
        all[n] = local[n];
    memcpy(all + n, global_options, sizeof(global_options));
    memset(all + n + N_GLOBAL, 0, sizeof(all[0]));
    opterr = 0;
    for (;;) {
        int ch = getopt_long(argc, argv, shortopts, all, NULL);
        long ms;

        switch (ch) {
        case OPT_ADDR:
            g->opts.addr = optarg;
            break;
        case OPT_CA:
            g->opts.ca_file = optarg;
            break;
        case OPT_CERT:
            g->opts.cert_file = optarg;
            break;
        case OPT_KEY:
            g->opts.key_file = optarg;
            break;
        case OPT_ACTOR:
            g->opts.actor = optarg;
            break;
        case OPT_JSON:
            g->json = 1;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_long(optarg, 1, MAX_TIMEOUT_MS, &ms) < 0) {
                cli_usage_error("--timeout wants milliseconds between 1 and 86400000, not \"%s\"",
                                optarg);
                return '?';
            }
            g->opts.connect_timeout_ms = (int)ms;
            g->opts.io_timeout_ms = (int)ms;
            break;
        case ':':
            cli_usage_error("%s needs a value", argv[optind - 1]);
            return '?';
        case '?':
            cli_usage_error("unknown flag %s", argv[optind - 1]);
            return '?';
        default:
            return ch;
        }
    }
}

/* ---- subcommands and paging ---- */

int cli_dispatch(struct cli *g, int argc, char **argv, const char *command,
                 const struct cli_sub *subs, size_t n_subs)
{
    char names[256] = "";
    size_t len = 0;
    int ch;

    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < n_subs; i++) {
            if (strcmp(argv[1], subs[i].name) == 0) {
                optind = 0; /* GNU getopt: start over on the subcommand's arguments */
                return subs[i].run(g, argc - 1, argv + 1);
            }
        }
    } else {
        /* No subcommand: only --help and the like make sense. */
        ch = cli_getopt(g, argc, argv, "+:", NULL);
        if (ch != -1)
            return cli_other_flag(command, ch);
    }
    for (size_t i = 0; i < n_subs && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                i == 0            ? ""
                                : i + 1 == n_subs ? " or "
                                                  : ", ",
                                subs[i].name);
    if (argc >= 2 && argv[1][0] != '-')
        return cli_usage_error("%s has no subcommand \"%s\" (%s)", command, argv[1], names);
    return cli_usage_error("%s wants a subcommand: %s", command, names);
}

int cli_paging_flag(struct cli_paging *p, int ch, const char *arg)
{
    long size;

    switch (ch) {
    case CLI_F_PAGE_SIZE:
        if (cli_parse_long(arg, 1, p->max_size, &size) < 0) {
            cli_usage_error("--page-size wants 1 to %ld, not \"%s\"", p->max_size, arg);
            return -1;
        }
        p->size = (uint32_t)size;
        return 1;
    case CLI_F_PAGE_TOKEN:
        p->token = arg;
        return 1;
    case CLI_F_ALL:
        p->all = 1;
        return 1;
    default:
        return 0;
    }
}

/* "ritra: more NOUN: --page-token 'TOKEN'", quoted for the shell: tokens
 * may hold '|' or '~'. */
static void print_more(const char *noun, const char *next)
{
    char clean[512];

    fprintf(stderr, "ritra: more %s: --page-token '", noun);
    for (const char *p = cli_clean(clean, sizeof(clean), next); *p != '\0'; p++) {
        if (*p == '\'')
            fputs("'\\''", stderr);
        else
            putc(*p, stderr);
    }
    fputs("'\n", stderr);
}

int cli_pages(struct cli *g, struct ritra_conn *c, const struct cli_pager *pager, void *query,
              const struct cli_paging *p)
{
    char *token = NULL;
    const char *at = p->token != NULL ? p->token : "";
    int rc;

    for (;;) {
        Ritra__Response *resp = NULL;
        const char *next = "";

        rc = pager->page(g, c, query, at, &resp, &next);
        if (rc != CLI_EXIT_OK || next == NULL || next[0] == '\0') {
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (!p->all) {
            print_more(pager->noun, next);
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (strcmp(at, next) == 0) {
            /* Following it would loop forever. */
            fputs("ritra: PROTOCOL: the server repeated a page token\n", stderr);
            ritra__response__free_unpacked(resp, NULL);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        free(token);
        token = strdup(next);
        ritra__response__free_unpacked(resp, NULL);
        if (token == NULL) {
            fputs("ritra: NOMEM: out of memory\n", stderr);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        at = token;
    }
    free(token);
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_INTERNAL;
    return rc;
}

/* ---- help ---- */

static void print_usage(FILE *f)
{
    fputs("usage: ritra [flags] COMMAND [command flags]\n"
          "\n"
          "Talks to a ritra case-exchange server over mutual TLS.\n"
          "\n"
          "Commands:\n",
          f);
    for (const struct cli_command *const *c = find_command_entry(NULL); *c != NULL; c++)
        fputs((*c)->list, f);
    fputs("  help [COMMAND]          show this text or a command's flags\n"
          "\n"
          "Flags (also accepted after the command; defaults from the environment):\n"
          "  --addr HOST:PORT    server address, [v6addr]:port for IPv6   $RITRA_ADDR\n"
          "  --ca FILE           CA bundle the server must chain to, PEM  $RITRA_CA\n"
          "  --cert FILE         client certificate, PEM                  $RITRA_CERT\n"
          "  --key FILE          client private key, unencrypted PEM      $RITRA_KEY\n"
          "  --actor NAME        person the agency acts for (audit)       $RITRA_ACTOR,\n"
          "                                                               else $USER\n"
          "  --timeout MS        connect and per-call I/O timeout in milliseconds\n"
          "                      (default 10000 to connect, 30000 per call)\n"
          "  --json              machine-readable output: one JSON object per line\n"
          "  --help, --version\n"
          "\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  the server answered with an error status, or some submitted case failed\n"
          "  2  usage error: bad flags, unreadable local files, invalid JSON input\n"
          "     (the message names the place, e.g. cases.json: [3].persons[1].sex)\n"
          "  3  unauthenticated: the server refused the client certificate\n"
          "  4  connection, TLS or timeout failure; retrying later may help\n"
          "  5  internal or protocol error, or writing a local file failed\n",
          f);
}

/* A command's help, then that of its subcommands kept elsewhere ("case
 * matches" after "case"). */
static int print_command_help(const struct cli_command *c)
{
    size_t len = strlen(c->name);

    fputs(c->help, stdout);
    for (const struct cli_command *const *x = find_command_entry(NULL); *x != NULL; x++) {
        if (strncmp((*x)->name, c->name, len) == 0 && (*x)->name[len] == ' ') {
            putchar('\n');
            fputs((*x)->help, stdout);
        }
    }
    puts("\nGlobal flags and exit status: ritra --help");
    return CLI_EXIT_OK;
}

int cli_other_flag(const char *command, int ch)
{
    switch (ch) {
    case CLI_OPT_HELP:
        return print_command_help(find_command(command));
    case CLI_OPT_VERSION:
        return print_version();
    default:
        return CLI_EXIT_USAGE;
    }
}

/* ---- connecting ---- */

static const char *empty_to_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

struct ritra_conn *cli_connect(struct cli *g, int *exit_code)
{
    struct ritra_error err;
    struct ritra_conn *c;

    /* An empty flag or variable means "not set" (e.g. --cert "" to try
     * without a client certificate). */
    g->opts.cert_file = empty_to_null(g->opts.cert_file);
    g->opts.key_file = empty_to_null(g->opts.key_file);
    g->opts.actor = empty_to_null(g->opts.actor);
    if (g->opts.addr == NULL || g->opts.addr[0] == '\0') {
        *exit_code = cli_usage_error("no server address: use --addr or set RITRA_ADDR");
        return NULL;
    }
    if (g->opts.ca_file == NULL || g->opts.ca_file[0] == '\0') {
        *exit_code = cli_usage_error("no CA bundle: use --ca or set RITRA_CA");
        return NULL;
    }
    c = ritra_connect(&g->opts, &err);
    if (c == NULL)
        *exit_code = cli_report(&err);
    return c;
}

/* ---- ping ---- */

static int ping_once(struct cli *g, struct ritra_conn *c)
{
    struct ritra_ping_result r;
    struct ritra_error err;
    struct timespec t0, t1;
    const char *kind;
    double rtt;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ritra_ping(c, &r, &err) < 0)
        return cli_report(&err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rtt = elapsed_ms(&t0, &t1);
    kind = ritra_agency_kind_name(r.agency.kind);
    if (g->json) {
        struct json_object *o = json_object_new_object(), *a = json_object_new_object();

        json_object_object_add(a, "code", json_object_new_string(r.agency.code));
        json_object_object_add(a, "name", json_object_new_string(r.agency.name));
        json_object_object_add(a, "kind", json_object_new_string(kind));
        json_object_object_add(a, "cert_fingerprint", json_object_new_string(r.agency.fingerprint));
        json_object_object_add(o, "agency", a);
        json_object_object_add(o, "server_version", json_object_new_string(r.server_version));
        json_object_object_add(o, "protocol_version", json_object_new_int64(r.protocol_version));
        json_object_object_add(o, "server_time_ms", json_object_new_int64(r.server_time_ms));
        json_object_object_add(o, "rtt_ms", json_decimal(rtt));
        return cli_print_json(o, 0);
    } else {
        char code[sizeof(r.agency.code)], name[sizeof(r.agency.name)];
        char fp[sizeof(r.agency.fingerprint)], ver[sizeof(r.server_version)];

        printf("agency %s (%s, %s) fingerprint %s server %s protocol %u rtt %.1f ms\n",
               cli_clean(code, sizeof(code), r.agency.code),
               cli_clean(name, sizeof(name), r.agency.name), kind,
               cli_clean(fp, sizeof(fp), r.agency.fingerprint),
               cli_clean(ver, sizeof(ver), r.server_version), r.protocol_version, rtt);
        return CLI_EXIT_OK;
    }
}

static int ping_many(struct cli *g, struct ritra_conn *c, size_t n)
{
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Request init = RITRA__REQUEST__INIT;
    Ritra__Request *reqs = calloc(n, sizeof(*reqs));
    Ritra__Request **ptrs = calloc(n, sizeof(*ptrs));
    Ritra__Response **resps = calloc(n, sizeof(*resps));
    struct ritra_error err, first = {0};
    struct timespec t0, t1;
    size_t ok = 0;
    double ms;
    int rc = CLI_EXIT_INTERNAL;

    if (reqs == NULL || ptrs == NULL || resps == NULL) {
        fputs("ritra: NOMEM: out of memory\n", stderr);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        reqs[i] = init;
        reqs[i].op_case = RITRA__REQUEST__OP_PING;
        reqs[i].ping = &ping;
        ptrs[i] = &reqs[i];
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ritra_call_batch(c, ptrs, n, resps, &err) < 0) {
        rc = cli_report(&err);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = elapsed_ms(&t0, &t1);
    for (size_t i = 0; i < n; i++) {
        if (resps[i]->status->code == RITRA__STATUS_CODE__OK)
            ok++;
        else if (first.code == 0)
            ritra_error_from_status(resps[i]->status, &first);
    }
    if (g->json) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "count", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "ok", json_object_new_int64((int64_t)ok));
        json_object_object_add(o, "elapsed_ms", json_decimal(ms));
        json_object_object_add(o, "per_second", json_decimal(ms > 0 ? (double)n * 1e3 / ms : 0));
        rc = cli_print_json(o, 0);
    } else {
        printf("%zu pings in %.1f ms (%.0f per second), %zu OK\n", n, ms,
               ms > 0 ? (double)n * 1e3 / ms : 0.0, ok);
        rc = CLI_EXIT_OK;
    }
    if (first.code != 0)
        rc = cli_report(&first);
done:
    for (size_t i = 0; resps != NULL && i < n; i++)
        ritra__response__free_unpacked(resps[i], NULL);
    free(resps);
    free(ptrs);
    free(reqs);
    return rc;
}

static int cmd_ping(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"count", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct ritra_conn *c;
    long count = 0;
    int ch, rc = CLI_EXIT_INTERNAL;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        switch (ch) {
        case 'n':
            if (cli_parse_long(optarg, 1, MAX_PING_COUNT, &count) < 0)
                return cli_usage_error("--count wants a number from 1 to 1000000, not \"%s\"",
                                       optarg);
            break;
        default:
            return cli_other_flag("ping", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("ping takes no arguments, got \"%s\"", argv[optind]);
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    rc = count > 0 ? ping_many(g, c, (size_t)count) : ping_once(g, c);
    ritra_close(c);
    return rc;
}

/* ---- commands ---- */

static const struct cli_command ping_command = {
    "ping",
    cmd_ping,
    "  ping [--count N]        show the agency the server takes us for, and the latency\n",
    "usage: ritra [flags] ping [--count N]\n"
    "\n"
    "Without flags, sends one ping and prints the agency the server matched our\n"
    "certificate to, the server version and the round-trip time.\n"
    "\n"
    "  --count N   send N pings pipelined on one connection and print the count,\n"
    "              the elapsed time and how many were answered OK\n",
};

/* In the order of ritra --help; a subcommand kept outside its command's
 * file ("case matches") follows its command. */
static const struct cli_command *const commands[] = {
    &ping_command,        &cli_case_command,  &cli_case_matches_command,
    &cli_sync_command,    &cli_share_command, &cli_search_command,
    &cli_matches_command, &cli_audit_command, NULL,
};

/* The entry for name (NULL at the end when there is none); for a NULL
 * name, the whole table. */
static const struct cli_command *const *find_command_entry(const char *name)
{
    const struct cli_command *const *c = commands;

    while (name != NULL && *c != NULL && strcmp((*c)->name, name) != 0)
        c++;
    return c;
}

static const struct cli_command *find_command(const char *name)
{
    return *find_command_entry(name);
}

/* The entry for the two words "a b" when there is one. */
static const struct cli_command *find_subcommand(const char *a, const char *b)
{
    char name[64];
    int n = snprintf(name, sizeof(name), "%s %s", a, b);

    return n > 0 && (size_t)n < sizeof(name) ? find_command(name) : NULL;
}

static int cmd_help(int argc, char **argv)
{
    const struct cli_command *c = NULL;

    if (argc < 2) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 3)
        c = find_subcommand(argv[1], argv[2]);
    if (c == NULL)
        c = find_command(argv[1]);
    if (c == NULL)
        return cli_usage_error("no command \"%s\"", argv[1]);
    return print_command_help(c);
}

/* The audit trail needs a person: $RITRA_ACTOR, else the login name. */
static const char *default_actor(void)
{
    const char *a = getenv("RITRA_ACTOR");
    const struct passwd *pw;

    if (a == NULL || a[0] == '\0')
        a = getenv("USER");
    if (a != NULL && a[0] != '\0')
        return a;
    pw = getpwuid(getuid());
    return pw != NULL ? pw->pw_name : NULL;
}

int main(int argc, char **argv)
{
    struct cli g = {0};
    const struct cli_command *cmd;
    int ch;

    g.opts.addr = getenv("RITRA_ADDR");
    g.opts.ca_file = getenv("RITRA_CA");
    g.opts.cert_file = getenv("RITRA_CERT");
    g.opts.key_file = getenv("RITRA_KEY");
    g.opts.actor = default_actor();

    /* "+": stop at the command name; its flags are parsed by the command. */
    while ((ch = cli_getopt(&g, argc, argv, "+:", NULL)) != -1) {
        switch (ch) {
        case OPT_HELP:
            print_usage(stdout);
            return CLI_EXIT_OK;
        case OPT_VERSION:
            return print_version();
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    if (strcmp(argv[0], "help") == 0)
        return cmd_help(argc, argv);
    /* "case matches" is an entry of its own; "case get" is not. */
    if (argc >= 2 && (cmd = find_subcommand(argv[0], argv[1])) != NULL) {
        argc--;
        argv++;
    } else if ((cmd = find_command(argv[0])) == NULL || strchr(argv[0], ' ') != NULL) {
        return cli_usage_error("unknown command \"%s\"", argv[0]);
    }
    optind = 0; /* GNU getopt: start over on the command's own arguments */
    return cmd->run(&g, argc, argv);
}
