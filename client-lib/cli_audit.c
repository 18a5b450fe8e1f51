/*
 * ritra audit: copy the audit trail to files, verify it offline against
 * the signed checkpoints, and report who accessed which case
 * (docs/audit.md describes the trail).
 *
 * audit pull [--from-seq N] [--to-seq N] [--from TIME] [--to TIME]
 *            [--agency A] [--operation OP] [--case UUID] [--actor X]
 *            [--limit N] [--state FILE] [--format jsonl|csv] [--out FILE]
 *            [--checkpoints FILE]
 *   Pages through AuditPull until the server has no more and appends the
 *   entries to --out FILE (created 0600) or standard output: as JSON Lines,
 *   one AuditEntry object per line (its field names, defaults left out),
 *   or as CSV (RFC 4180: a header line when the output starts empty,
 *   CRLF line ends, fields quoted when they need it; case ids joined by
 *   ","). Values are written as recorded: spreadsheet users should import
 *   them as text. The checkpoints of each answer are appended to
 *   --checkpoints FILE as JSON Lines, one AuditCheckpoint per line, except
 *   those whose seq the file already holds (the first copy of a
 *   checkpoint is the one kept). stderr gets one line at the end:
 *       N entries, K new checkpoints[, next seq S saved]
 *   With --state FILE the pull starts at the next_seq saved there (at
 *   --from-seq, else 1, when FILE does not exist) and saves the new one
 *   after each page, with the same crash safety as ritra sync: entries,
 *   then checkpoints, are written and fsync'd before the state file is
 *   replaced (temporary file, fsync, rename, directory fsync), and a
 *   partial last line left by an interrupted run is cut off on the next.
 *
 * audit verify --entries FILE --checkpoints FILE --pubkey FILE...
 *   Offline. Recomputes the chain over the entries (JSON Lines as pull
 *   writes them, from an unfiltered pull) and checks them and the
 *   checkpoints (ritra.h, ritra_audit_verifier). Prints
 *       OK: N entries, chain intact up to seq S, K checkpoints verified
 *   and exits 0, or
 *       FAIL at seq N: REASON
 *   (the first sequence number that does not check out) and exits 1.
 *   --pubkey may be repeated: after a key rotation, each checkpoint is
 *   checked with the key its key_id names.
 *
 * audit report --entries FILE [--from TIME] [--to TIME]
 *   Every entry that names a case, grouped by case and acting agency, one
 *   line each, sorted by case id then agency:
 *       CASE_ID AGENCY ACCESSES FAILED FIRST LAST OPERATIONS ACTORS
 *   OPERATIONS is "op=count,..." and ACTORS the distinct actors, joined
 *   by ","; FAILED counts the entries whose outcome was not OK. With
 *   --json, one object per group and line instead:
 *       {"case_id":"...","agency":"FGN","accesses":4,"failed":1,
 *        "first":"...","last":"...","operations":{"get_case":3,...},
 *        "actors":["..."]}
 *   --from (inclusive) and --to (exclusive) take YYYY-MM-DD or RFC 3339.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsontext.h"
#include "pbjson.h"

#define MAX_PUBKEYS 16
#define PULL_LIMIT  5000 /* the server's maximum page */

/* Flag values; these flags have no short form. */
enum {
    F_FROM_SEQ = 1,
    F_TO_SEQ,
    F_FROM,
    F_TO,
    F_AGENCY,
    F_OPERATION,
    F_CASE,
    F_ACTOR,
    F_LIMIT,
    F_STATE,
    F_FORMAT,
    F_OUT,
    F_CHECKPOINTS,
    F_ENTRIES,
    F_PUBKEY,
};

/* ---- durable files (the rules of cli_sync.c) ---- */

/* A file that grows by whole lines. */
struct outfile {
    const char *path; /* NULL: standard output */
    int fd;
    int created; /* its directory entry still needs an fsync */
    off_t size;  /* after trimming; 0 for standard output */
};

/* Cuts a partial last line left by an interrupted run (its contents were
 * not acknowledged by a saved state, so they come again). */
static int trim_partial_line(struct outfile *o)
{
    struct stat st;
    char buf[4096];
    off_t pos, keep = 0;

    if (fstat(o->fd, &st) < 0)
        return cli_file_error("cannot stat", o->path);
    o->size = S_ISREG(st.st_mode) ? st.st_size : 0;
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return CLI_EXIT_OK;
    for (pos = st.st_size; pos > 0 && keep == 0;) {
        size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
        size_t i = n;

        pos -= (off_t)n;
        if (pread(o->fd, buf, n, pos) != (ssize_t)n)
            return cli_file_error("cannot read", o->path);
        if (pos + (off_t)n == st.st_size && buf[n - 1] == '\n')
            return CLI_EXIT_OK;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0)
            keep = pos + (off_t)i;
    }
    if (ftruncate(o->fd, keep) < 0 || fsync(o->fd) < 0)
        return cli_file_error("cannot truncate", o->path);
    fprintf(stderr,
            "ritra: %s: removed an incomplete last line (%lld bytes) left by an "
            "interrupted pull\n",
            o->path, (long long)(st.st_size - keep));
    o->size = keep;
    return CLI_EXIT_OK;
}

static int outfile_open(struct outfile *o)
{
    if (o->path == NULL) {
        o->fd = STDOUT_FILENO;
        return CLI_EXIT_OK;
    }
    o->fd = open(o->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (o->fd < 0 && errno == ENOENT) {
        /* The trail names people and cases: readable by the owner only. */
        o->fd = open(o->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        o->created = o->fd >= 0;
    }
    if (o->fd < 0)
        return cli_input_error("cannot open %s: %s", o->path, strerror(errno));
    return trim_partial_line(o);
}

static void outfile_close(struct outfile *o)
{
    if (o->path != NULL && o->fd >= 0)
        close(o->fd);
    o->fd = -1;
}

/* Appends buf in one write and makes it durable. */
static int outfile_append(struct outfile *o, const char *buf, size_t len)
{
    const char *name = o->path ? o->path : "standard output";

    if (len > 0 && (cli_file_write_all(o->fd, buf, len) < 0 || cli_file_sync_fd(o->fd) < 0))
        return cli_file_error("cannot write", name);
    if (o->created) {
        if (cli_file_sync_dir_of(o->path) < 0)
            return cli_file_error("cannot sync the directory of", o->path);
        o->created = 0;
    }
    o->size += (off_t)len;
    return CLI_EXIT_OK;
}

/* A growable text buffer; on allocation failure it is marked failed. */
struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void text_put(struct text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->cap - t->len < n + 1) {
        size_t cap = t->cap ? t->cap : 4096;
        char *nb;

        while (cap - t->len < n + 1)
            cap *= 2;
        nb = realloc(t->buf, cap);
        if (nb == NULL) {
            t->failed = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* msg as one JSON line. */
static int text_json_line(struct text *t, const ProtobufCMessage *msg, const char *what)
{
    struct json_object *j = NULL;
    struct pbjson_error pe;

    if (pbjson_from_message(msg, &j, &pe) < 0) {
        fprintf(stderr, "ritra: PROTOCOL: %s: %s: %s\n", what, pe.path, pe.reason);
        return -1;
    }
    text_str(t, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
    text_put(t, "\n", 1);
    json_object_put(j);
    return 0;
}

/* ---- reading JSON Lines ---- */

/* Calls fn for each line of path ("-": standard input) as a message of
 * type desc. Blank lines are skipped. Returns CLI_EXIT_OK, fn's non-zero
 * return, or CLI_EXIT_USAGE after naming the bad line. */
static int read_jsonl(const char *path, const ProtobufCMessageDescriptor *desc,
                      int (*fn)(const ProtobufCMessage *m, void *arg), void *arg)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL, why[200];
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = CLI_EXIT_OK;

    if (f == NULL)
        return cli_input_error("cannot open %s: %s", path, strerror(errno));
    while (rc == CLI_EXIT_OK && (len = getline(&line, &cap, f)) >= 0) {
        struct json_object *j;
        ProtobufCMessage *m = NULL;
        struct pbjson_error pe;

        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        j = jsontext_parse(line, (size_t)len, why, sizeof(why));
        if (j == NULL || !json_object_is_type(j, json_type_object)) {
            rc = cli_input_error("%s:%zu: %s", path, lineno, j ? "expected a JSON object" : why);
        } else if (pbjson_to_message(desc, j, &m, &pe) < 0) {
            rc = cli_input_error("%s:%zu: %s%s%s", path, lineno, pe.path, pe.path[0] ? ": " : "",
                                 pe.reason);
        } else {
            rc = fn(m, arg);
            protobuf_c_message_free_unpacked(m, NULL);
        }
        json_object_put(j);
    }
    if (rc == CLI_EXIT_OK && ferror(f))
        rc = cli_input_error("cannot read %s: %s", path, strerror(errno));
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ---- pull ---- */

struct pull {
    Ritra__AuditPullRequest q;
    const char *state;
    int csv;
    struct outfile out, cps;
    int have_cps;
    /* The checkpoints the file holds, by seq, with their hash. */
    struct held {
        int64_t seq;
        char hash[65];
    } * held;
    size_t n_held, cap_held;
    size_t entries, new_cps;
};

static struct held *held_find(struct pull *p, int64_t seq)
{
    for (size_t i = p->n_held; i > 0; i--) /* recent ones are the likely match */
        if (p->held[i - 1].seq == seq)
            return &p->held[i - 1];
    return NULL;
}

static int held_add(struct pull *p, int64_t seq, const char *hash)
{
    if (p->n_held == p->cap_held) {
        size_t cap = p->cap_held ? 2 * p->cap_held : 64;
        struct held *nh = realloc(p->held, cap * sizeof(*nh));

        if (nh == NULL)
            return -1;
        p->held = nh;
        p->cap_held = cap;
    }
    p->held[p->n_held].seq = seq;
    snprintf(p->held[p->n_held].hash, sizeof(p->held[0].hash), "%s", hash);
    p->n_held++;
    return 0;
}

static int held_line(const ProtobufCMessage *m, void *arg)
{
    const Ritra__AuditCheckpoint *cp = (const Ritra__AuditCheckpoint *)m;

    return held_add(arg, cp->seq, cp->hash) < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
}

static int open_checkpoints(struct pull *p)
{
    int rc = outfile_open(&p->cps);

    if (rc != CLI_EXIT_OK)
        return rc;
    /* Two pulls appending to one file would duplicate checkpoints. */
    if (flock(p->cps.fd, LOCK_EX | LOCK_NB) < 0)
        return cli_input_error("%s: %s", p->cps.path,
                               errno == EWOULDBLOCK ? "another ritra audit pull is using this file"
                                                    : strerror(errno));
    return read_jsonl(p->cps.path, &ritra__audit_checkpoint__descriptor, held_line, p);
}

/* RFC 4180: quoted when it holds a comma, quote, CR or LF. */
static void csv_field(struct text *t, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        text_str(t, s);
    } else {
        text_put(t, "\"", 1);
        for (; *s; s++) {
            if (*s == '"')
                text_put(t, "\"\"", 2);
            else
                text_put(t, s, 1);
        }
        text_put(t, "\"", 1);
    }
    text_str(t, last ? "\r\n" : ",");
}

static void csv_entry(struct text *t, const Ritra__AuditEntry *e)
{
    struct text ids = {0};
    char seq[24], records[16], rid[24];

    for (size_t i = 0; i < e->n_case_ids; i++) {
        text_str(&ids, i ? "," : "");
        text_str(&ids, e->case_ids[i]);
    }
    snprintf(seq, sizeof(seq), "%" PRId64, e->seq);
    snprintf(records, sizeof(records), "%" PRId32, e->records);
    snprintf(rid, sizeof(rid), "%" PRIu64, e->request_id);
    csv_field(t, seq, 0);
    csv_field(t, e->time, 0);
    csv_field(t, e->agency, 0);
    csv_field(t, e->cert_fingerprint, 0);
    csv_field(t, e->actor, 0);
    csv_field(t, e->operation, 0);
    csv_field(t, ids.buf ? ids.buf : "", 0);
    csv_field(t, e->details, 0);
    csv_field(t, e->outcome, 0);
    csv_field(t, records, 0);
    csv_field(t, e->visibility, 0);
    csv_field(t, rid, 0);
    csv_field(t, e->prev_hash, 0);
    csv_field(t, e->hash, 1);
    t->failed |= ids.failed;
    free(ids.buf);
}

static int write_entries(struct pull *p, const Ritra__AuditPullResult *res)
{
    struct text t = {0};
    int rc = CLI_EXIT_OK;

    if (p->csv && p->out.size == 0 && p->entries == 0)
        text_str(&t, "seq,time,agency,cert_fingerprint,actor,operation,case_ids,details,outcome,"
                     "records,visibility,request_id,prev_hash,hash\r\n");
    for (size_t i = 0; i < res->n_entries && rc == CLI_EXIT_OK; i++) {
        if (p->csv)
            csv_entry(&t, res->entries[i]);
        else if (text_json_line(&t, &res->entries[i]->base, "entry") < 0)
            rc = CLI_EXIT_INTERNAL;
    }
    if (rc == CLI_EXIT_OK && t.failed)
        rc = CLI_EXIT_INTERNAL;
    /* One write per page: an interrupted run leaves at most one partial line. */
    if (rc == CLI_EXIT_OK && (res->n_entries > 0 || t.len > 0))
        rc = outfile_append(&p->out, t.buf, t.len);
    if (rc == CLI_EXIT_OK)
        p->entries += res->n_entries;
    free(t.buf);
    return rc;
}

static int write_checkpoints(struct pull *p, const Ritra__AuditPullResult *res)
{
    struct text t = {0};
    int rc = CLI_EXIT_OK;
    size_t added = 0;

    for (size_t i = 0; i < res->n_checkpoints && rc == CLI_EXIT_OK; i++) {
        const Ritra__AuditCheckpoint *cp = res->checkpoints[i];
        const struct held *h = held_find(p, cp->seq);

        if (h != NULL) {
            /* Keep the first copy; a different one is worth knowing about. */
            if (strcmp(h->hash, cp->hash) != 0)
                fprintf(stderr,
                        "ritra: warning: the server's checkpoint at seq %" PRId64
                        " differs from the one %s holds (kept)\n",
                        cp->seq, p->cps.path);
            continue;
        }
        if (text_json_line(&t, &cp->base, "checkpoint") < 0 || held_add(p, cp->seq, cp->hash) < 0)
            rc = CLI_EXIT_INTERNAL;
        added++;
    }
    if (rc == CLI_EXIT_OK && t.failed)
        rc = CLI_EXIT_INTERNAL;
    if (rc == CLI_EXIT_OK && added > 0)
        rc = outfile_append(&p->cps, t.buf, t.len);
    if (rc == CLI_EXIT_OK)
        p->new_cps += added;
    free(t.buf);
    return rc;
}

/* The state file: the next seq to pull, one decimal line. Absent: keep *seq. */
static int read_state(const char *state, int64_t *seq)
{
    char buf[32];
    ssize_t n;
    long v;
    int fd = open(state, O_RDONLY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT)
        return CLI_EXIT_OK;
    if (fd < 0)
        return cli_input_error("cannot open %s: %s", state, strerror(errno));
    do
        n = read(fd, buf, sizeof(buf) - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 1 || buf[n - 1] != '\n')
        return cli_input_error("%s is not a ritra audit state file (one line, the next seq)",
                               state);
    buf[n - 1] = '\0';
    if (cli_parse_long(buf, 1, INT64_MAX, &v) < 0)
        return cli_input_error("%s holds no valid next seq", state);
    *seq = v;
    return CLI_EXIT_OK;
}

/* Replaces the state file atomically and durably. */
static int save_state(const char *state, int64_t seq)
{
    char line[32];

    snprintf(line, sizeof(line), "%" PRId64 "\n", seq);
    return cli_file_replace(state, line);
}

/* Whether the pull takes the whole trail from its start on. */
static int unfiltered(const Ritra__AuditPullRequest *q)
{
    return q->to_seq == 0 && !*q->from_time && !*q->to_time && !*q->agency && !*q->operation &&
           !*q->case_id && !*q->actor;
}

static int pull_pages(struct pull *p, struct ritra_conn *c)
{
    int64_t top_cp = 0;
    int catchups = 0;

    for (;;) {
        Ritra__Response *resp = NULL;
        const Ritra__AuditPullResult *res;
        struct ritra_error err;
        int rc, more;

        if (ritra_audit_pull(c, &p->q, &resp, &err) < 0)
            return cli_report(&err);
        res = resp->audit_pull;
        rc = write_entries(p, res);
        if (rc == CLI_EXIT_OK && p->have_cps)
            rc = write_checkpoints(p, res);
        if (rc == CLI_EXIT_OK && p->state != NULL)
            rc = save_state(p->state, res->next_seq > 0 ? res->next_seq : p->q.from_seq);
        more = res->more;
        if (rc == CLI_EXIT_OK && more && res->next_seq <= p->q.from_seq) {
            fputs("ritra: PROTOCOL: the server has more but sends nothing new\n", stderr);
            rc = CLI_EXIT_INTERNAL;
        }
        if (rc == CLI_EXIT_OK && res->next_seq > 0)
            p->q.from_seq = res->next_seq;
        for (size_t i = 0; i < res->n_checkpoints; i++)
            if (res->checkpoints[i]->seq > top_cp)
                top_cp = res->checkpoints[i]->seq;
        /* The server reads the checkpoints a moment after the entries:
         * entries chained in between sit behind a checkpoint now saved.
         * Fetch them too, so that the two files agree. */
        if (rc == CLI_EXIT_OK && !more && p->have_cps && unfiltered(&p->q) &&
            top_cp >= p->q.from_seq && catchups < 3 && (catchups == 0 || res->n_entries > 0)) {
            catchups++;
            more = 1;
        }
        ritra__response__free_unpacked(resp, NULL);
        if (rc != CLI_EXIT_OK || !more)
            return rc;
    }
}

static int audit_pull(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"from-seq", required_argument, NULL, F_FROM_SEQ},
        {"to-seq", required_argument, NULL, F_TO_SEQ},
        {"from", required_argument, NULL, F_FROM},
        {"to", required_argument, NULL, F_TO},
        {"agency", required_argument, NULL, F_AGENCY},
        {"operation", required_argument, NULL, F_OPERATION},
        {"case", required_argument, NULL, F_CASE},
        {"actor", required_argument, NULL, F_ACTOR}, /* shadows the global --actor */
        {"limit", required_argument, NULL, F_LIMIT},
        {"state", required_argument, NULL, F_STATE},
        {"format", required_argument, NULL, F_FORMAT},
        {"out", required_argument, NULL, F_OUT},
        {"checkpoints", required_argument, NULL, F_CHECKPOINTS},
        {NULL, 0, NULL, 0},
    };
    struct pull p = {.q = RITRA__AUDIT_PULL_REQUEST__INIT, .out = {.fd = -1}, .cps = {.fd = -1}};
    struct ritra_conn *c = NULL;
    int ch, rc = CLI_EXIT_OK, lock_fd = -1;
    long v;

    p.q.from_seq = 1;
    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_FROM_SEQ || ch == F_TO_SEQ || ch == F_LIMIT) {
            long max = ch == F_LIMIT ? PULL_LIMIT : INT64_MAX;

            if (cli_parse_long(optarg, 1, max, &v) < 0)
                return cli_usage_error("--%s wants a number from 1 to %ld, not \"%s\"",
                                       ch == F_FROM_SEQ ? "from-seq"
                                       : ch == F_TO_SEQ ? "to-seq"
                                                        : "limit",
                                       max, optarg);
            if (ch == F_FROM_SEQ)
                p.q.from_seq = v;
            else if (ch == F_TO_SEQ)
                p.q.to_seq = v;
            else
                p.q.limit = (uint32_t)v;
        } else if (ch == F_FROM) {
            p.q.from_time = optarg;
        } else if (ch == F_TO) {
            p.q.to_time = optarg;
        } else if (ch == F_AGENCY) {
            p.q.agency = optarg;
        } else if (ch == F_OPERATION) {
            p.q.operation = optarg;
        } else if (ch == F_CASE) {
            p.q.case_id = optarg;
        } else if (ch == F_ACTOR) {
            p.q.actor = optarg;
        } else if (ch == F_STATE) {
            p.state = optarg;
        } else if (ch == F_FORMAT) {
            if (strcmp(optarg, "jsonl") != 0 && strcmp(optarg, "csv") != 0)
                return cli_usage_error("--format wants jsonl or csv, not \"%s\"", optarg);
            p.csv = strcmp(optarg, "csv") == 0;
        } else if (ch == F_OUT) {
            p.out.path = strcmp(optarg, "-") == 0 ? NULL : optarg;
        } else if (ch == F_CHECKPOINTS) {
            p.cps.path = optarg;
            p.have_cps = 1;
        } else {
            return cli_other_flag("audit", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("audit pull takes no arguments, got \"%s\"", argv[optind]);
    if (p.state != NULL && p.state[0] == '\0')
        return cli_usage_error("--state wants a file name");
    if (p.have_cps && (p.cps.path[0] == '\0' || strcmp(p.cps.path, "-") == 0))
        return cli_usage_error("--checkpoints wants a file name");
    if (p.state != NULL) {
        rc = cli_file_lock(p.state, "ritra audit pull", &lock_fd);
        if (rc == CLI_EXIT_OK)
            rc = read_state(p.state, &p.q.from_seq);
    }
    if (rc == CLI_EXIT_OK)
        rc = outfile_open(&p.out);
    if (rc == CLI_EXIT_OK && p.have_cps)
        rc = open_checkpoints(&p);
    if (rc == CLI_EXIT_OK)
        c = cli_connect(g, &rc);
    if (c != NULL) {
        rc = pull_pages(&p, c);
        /* Whatever failed later, what was written stays written. */
        if (rc == CLI_EXIT_OK || p.entries > 0 || p.new_cps > 0) {
            char saved[64] = "";

            if (p.state != NULL)
                snprintf(saved, sizeof(saved), ", next seq %" PRId64 " saved", p.q.from_seq);
            fprintf(stderr, "%zu entries, %zu new checkpoints%s\n", p.entries, p.new_cps, saved);
        }
    }
    ritra_close(c);
    outfile_close(&p.out);
    outfile_close(&p.cps);
    if (lock_fd >= 0)
        close(lock_fd);
    free(p.held);
    return rc;
}

/* ---- verify ---- */

static int verify_checkpoint_line(const ProtobufCMessage *m, void *arg)
{
    return ritra_audit_verifier_add_checkpoint(arg, (const Ritra__AuditCheckpoint *)m) < 0
               ? CLI_EXIT_INTERNAL
               : CLI_EXIT_OK;
}

/* Stops reading at the first failure: the verdict holds it. */
static int verify_entry_line(const ProtobufCMessage *m, void *arg)
{
    return ritra_audit_verifier_add_entry(arg, (const Ritra__AuditEntry *)m) < 0 ? -1 : CLI_EXIT_OK;
}

static int print_verdict(struct cli *g, const struct ritra_audit_verdict *v)
{
    char reason[sizeof(v->reason)];

    if (g->json) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(v->ok));
        if (!v->ok) {
            json_object_object_add(o, "bad_seq", json_object_new_int64(v->bad_seq));
            json_object_object_add(o, "reason", json_object_new_string(v->reason));
        }
        json_object_object_add(o, "entries", json_object_new_int64((int64_t)v->entries));
        json_object_object_add(o, "first_seq", json_object_new_int64(v->first_seq));
        json_object_object_add(o, "last_seq", json_object_new_int64(v->last_seq));
        json_object_object_add(o, "checkpoints", json_object_new_int64((int64_t)v->checkpoints));
        json_object_object_add(o, "signed_seq", json_object_new_int64(v->signed_seq));
        if (cli_print_json(o, 0) != CLI_EXIT_OK)
            return CLI_EXIT_INTERNAL;
    } else if (v->ok) {
        printf("OK: %zu entries, chain intact up to seq %" PRId64 ", %zu checkpoints verified\n",
               v->entries, v->last_seq, v->checkpoints);
    } else {
        printf("FAIL at seq %" PRId64 ": %s\n", v->bad_seq,
               cli_clean(reason, sizeof(reason), v->reason));
    }
    if (v->ok && v->entries > 0 && v->signed_seq == 0)
        fputs("ritra: note: no checkpoint covers these entries: the chain is consistent, but "
              "nothing signed vouches for it\n",
              stderr);
    else if (v->ok && v->last_seq > v->signed_seq)
        fprintf(stderr,
                "ritra: note: seq %" PRId64 " to %" PRId64
                " follow the last checkpoint: linked, not yet signed\n",
                v->signed_seq + 1, v->last_seq);
    return v->ok ? CLI_EXIT_OK : CLI_EXIT_STATUS;
}

static int audit_verify(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"entries", required_argument, NULL, F_ENTRIES},
        {"checkpoints", required_argument, NULL, F_CHECKPOINTS},
        {"pubkey", required_argument, NULL, F_PUBKEY},
        {NULL, 0, NULL, 0},
    };
    const char *entries = NULL, *checkpoints = NULL, *pubkeys[MAX_PUBKEYS];
    struct ritra_audit_key *keys[MAX_PUBKEYS];
    struct ritra_audit_verifier *v = NULL;
    struct ritra_audit_verdict verdict;
    size_t n_keys = 0, n_loaded = 0;
    int ch, rc = CLI_EXIT_OK;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_ENTRIES) {
            entries = optarg;
        } else if (ch == F_CHECKPOINTS) {
            checkpoints = optarg;
        } else if (ch == F_PUBKEY) {
            if (n_keys == MAX_PUBKEYS)
                return cli_usage_error("at most %d --pubkey", MAX_PUBKEYS);
            pubkeys[n_keys++] = optarg;
        } else {
            return cli_other_flag("audit", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("audit verify takes no arguments, got \"%s\"", argv[optind]);
    if (entries == NULL || checkpoints == NULL || n_keys == 0)
        return cli_usage_error(
            "audit verify wants --entries FILE, --checkpoints FILE and --pubkey FILE");
    if (strcmp(checkpoints, "-") == 0 && strcmp(entries, "-") == 0)
        return cli_usage_error("only one of --entries and --checkpoints can be standard input");
    for (; n_loaded < n_keys; n_loaded++) {
        struct ritra_error err;

        keys[n_loaded] = ritra_audit_key_load(pubkeys[n_loaded], &err);
        if (keys[n_loaded] == NULL) {
            rc = cli_input_error("%s", err.message);
            goto out;
        }
    }
    v = ritra_audit_verifier_new((const struct ritra_audit_key *const *)keys, n_keys);
    if (v == NULL) {
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    rc = read_jsonl(checkpoints, &ritra__audit_checkpoint__descriptor, verify_checkpoint_line, v);
    if (rc == CLI_EXIT_OK)
        rc = read_jsonl(entries, &ritra__audit_entry__descriptor, verify_entry_line, v);
    if (rc == CLI_EXIT_OK || rc == -1) {
        ritra_audit_verifier_finish(v, &verdict);
        rc = print_verdict(g, &verdict);
    }
out:
    ritra_audit_verifier_free(v);
    for (size_t i = 0; i < n_loaded; i++)
        ritra_audit_key_free(keys[i]);
    return rc;
}

/* ---- report ---- */

/* YYYY-MM-DD, or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)),
 * as microseconds since the epoch. Returns 0 or -1. */
static int parse_time(const char *s, int64_t *us)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, off = 0;
    int64_t frac = 0, scale = 1000000;
    const char *p;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    p = s + n;
    if (*p != '\0') {
        if ((*p != 'T' && *p != 't' && *p != ' ') ||
            sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
            return -1;
        p += 1 + n;
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++)
                if (scale > 1) {
                    scale /= 10;
                    frac += (*p - '0') * scale;
                }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;

            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
                return -1;
            off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
            p += 1 + n;
        } else {
            return -1;
        }
        if (*p != '\0')
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *us = ((int64_t)timegm(&tm) - off) * 1000000 + frac;
    return 0;
}

/* A short list of distinct names with counts. */
struct tally {
    char **names;
    size_t *counts;
    size_t n, cap;
};

static int tally_add(struct tally *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->names[i], name) == 0) {
            t->counts[i]++;
            return 0;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4;
        char **nn = realloc(t->names, cap * sizeof(*nn));
        size_t *nc;

        if (nn == NULL)
            return -1;
        t->names = nn;
        nc = realloc(t->counts, cap * sizeof(*nc));
        if (nc == NULL)
            return -1;
        t->counts = nc;
        t->cap = cap;
    }
    if ((t->names[t->n] = strdup(name)) == NULL)
        return -1;
    t->counts[t->n++] = 1;
    return 0;
}

static void tally_free(struct tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->counts);
}

/* One case as one agency touched it. */
struct group {
    char *case_id, *agency;
    size_t accesses, failed;
    int64_t first_us, last_us;
    char first[40], last[40];
    struct tally ops, actors;
};

struct report {
    int has_from, has_to;
    int64_t from_us, to_us;
    struct group *groups;
    size_t n, cap;
    size_t *index; /* open addressing over groups, SIZE_MAX empty */
    size_t index_cap;
};

static size_t group_hash(const char *case_id, const char *agency)
{
    size_t h = 1469598103934665603ULL;

    for (const char *p = case_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '\t') * 1099511628211ULL;
    for (const char *p = agency; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static int report_reindex(struct report *r, size_t cap)
{
    size_t *ix = malloc(cap * sizeof(*ix));

    if (ix == NULL)
        return -1;
    for (size_t i = 0; i < cap; i++)
        ix[i] = SIZE_MAX;
    for (size_t g = 0; g < r->n; g++) {
        size_t i = group_hash(r->groups[g].case_id, r->groups[g].agency) & (cap - 1);

        while (ix[i] != SIZE_MAX)
            i = (i + 1) & (cap - 1);
        ix[i] = g;
    }
    free(r->index);
    r->index = ix;
    r->index_cap = cap;
    return 0;
}

static struct group *report_group(struct report *r, const char *case_id, const char *agency)
{
    size_t i;
    struct group *g;

    if (2 * (r->n + 1) > r->index_cap && report_reindex(r, r->index_cap ? 2 * r->index_cap : 256))
        return NULL;
    for (i = group_hash(case_id, agency) & (r->index_cap - 1); r->index[i] != SIZE_MAX;
         i = (i + 1) & (r->index_cap - 1)) {
        g = &r->groups[r->index[i]];
        if (strcmp(g->case_id, case_id) == 0 && strcmp(g->agency, agency) == 0)
            return g;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct group *ng = realloc(r->groups, cap * sizeof(*ng));

        if (ng == NULL)
            return NULL;
        r->groups = ng;
        r->cap = cap;
    }
    g = &r->groups[r->n];
    memset(g, 0, sizeof(*g));
    g->case_id = strdup(case_id);
    g->agency = strdup(agency);
    if (g->case_id == NULL || g->agency == NULL) {
        free(g->case_id);
        free(g->agency);
        return NULL;
    }
    r->index[i] = r->n++;
    return g;
}

static int report_entry(const ProtobufCMessage *m, void *arg)
{
    const Ritra__AuditEntry *e = (const Ritra__AuditEntry *)m;
    struct report *r = arg;
    int64_t at;

    if (e->n_case_ids == 0)
        return CLI_EXIT_OK;
    if (parse_time(e->time, &at) < 0)
        return cli_input_error("entry %" PRId64 ": time \"%.40s\" is not RFC 3339", e->seq,
                               e->time);
    if ((r->has_from && at < r->from_us) || (r->has_to && at >= r->to_us))
        return CLI_EXIT_OK;
    for (size_t i = 0; i < e->n_case_ids; i++) {
        struct group *g = report_group(r, e->case_ids[i], e->agency);

        if (g == NULL || tally_add(&g->ops, e->operation) < 0 ||
            (e->actor[0] && tally_add(&g->actors, e->actor) < 0))
            return CLI_EXIT_INTERNAL;
        if (g->accesses++ == 0 || at < g->first_us) {
            g->first_us = at;
            snprintf(g->first, sizeof(g->first), "%s", e->time);
        }
        if (g->accesses == 1 || at > g->last_us) {
            g->last_us = at;
            snprintf(g->last, sizeof(g->last), "%s", e->time);
        }
        g->failed += strcmp(e->outcome, "OK") != 0;
    }
    return CLI_EXIT_OK;
}

static int group_order(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    int c = strcmp(x->case_id, y->case_id);

    return c != 0 ? c : strcmp(x->agency, y->agency);
}

static int print_group_json(const struct group *g)
{
    struct json_object *o = json_object_new_object(), *ops = json_object_new_object();
    struct json_object *actors = json_object_new_array();

    json_object_object_add(o, "case_id", json_object_new_string(g->case_id));
    json_object_object_add(o, "agency", json_object_new_string(g->agency));
    json_object_object_add(o, "accesses", json_object_new_int64((int64_t)g->accesses));
    json_object_object_add(o, "failed", json_object_new_int64((int64_t)g->failed));
    json_object_object_add(o, "first", json_object_new_string(g->first));
    json_object_object_add(o, "last", json_object_new_string(g->last));
    for (size_t i = 0; i < g->ops.n; i++)
        json_object_object_add(ops, g->ops.names[i],
                               json_object_new_int64((int64_t)g->ops.counts[i]));
    json_object_object_add(o, "operations", ops);
    for (size_t i = 0; i < g->actors.n; i++)
        json_object_array_add(actors, json_object_new_string(g->actors.names[i]));
    json_object_object_add(o, "actors", actors);
    return cli_print_json(o, 0);
}

#define REPORT_FORMAT "%-36s  %-12s  %8s  %6s  %-27s  %-27s  %s  %s\n"

static void print_tally(const struct tally *t, int counts)
{
    char name[300];

    if (t->n == 0)
        fputs("-", stdout);
    for (size_t i = 0; i < t->n; i++) {
        printf("%s%s", i ? "," : "", cli_clean(name, sizeof(name), t->names[i]));
        if (counts)
            printf("=%zu", t->counts[i]);
    }
}

static void print_group_text(const struct group *g)
{
    char cid[64], agency[64], n[24], failed[24];

    snprintf(n, sizeof(n), "%zu", g->accesses);
    snprintf(failed, sizeof(failed), "%zu", g->failed);
    printf("%-36s  %-12s  %8s  %6s  %-27s  %-27s  ", cli_clean(cid, sizeof(cid), g->case_id),
           g->agency[0] ? cli_clean(agency, sizeof(agency), g->agency) : "-", n, failed, g->first,
           g->last);
    print_tally(&g->ops, 1);
    fputs("  ", stdout);
    print_tally(&g->actors, 0);
    putchar('\n');
}

static int audit_report(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"entries", required_argument, NULL, F_ENTRIES},
        {"from", required_argument, NULL, F_FROM},
        {"to", required_argument, NULL, F_TO},
        {NULL, 0, NULL, 0},
    };
    struct report r = {0};
    const char *entries = NULL;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_ENTRIES) {
            entries = optarg;
        } else if (ch == F_FROM || ch == F_TO) {
            int64_t *t = ch == F_FROM ? &r.from_us : &r.to_us;

            if (parse_time(optarg, t) < 0)
                return cli_usage_error("--%s wants YYYY-MM-DD or RFC 3339, not \"%s\"",
                                       ch == F_FROM ? "from" : "to", optarg);
            *(ch == F_FROM ? &r.has_from : &r.has_to) = 1;
        } else {
            return cli_other_flag("audit", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("audit report takes no arguments, got \"%s\"", argv[optind]);
    if (entries == NULL)
        return cli_usage_error("audit report wants --entries FILE");
    rc = read_jsonl(entries, &ritra__audit_entry__descriptor, report_entry, &r);
    if (rc == CLI_EXIT_OK) {
        if (r.n > 1)
            qsort(r.groups, r.n, sizeof(*r.groups), group_order);
        if (!g->json)
            printf(REPORT_FORMAT, "CASE_ID", "AGENCY", "ACCESSES", "FAILED", "FIRST", "LAST",
                   "OPERATIONS", "ACTORS");
        for (size_t i = 0; i < r.n && rc == CLI_EXIT_OK; i++) {
            if (g->json)
                rc = print_group_json(&r.groups[i]);
            else
                print_group_text(&r.groups[i]);
        }
        if (rc == CLI_EXIT_OK && fflush(stdout) != 0)
            rc = CLI_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < r.n; i++) {
        free(r.groups[i].case_id);
        free(r.groups[i].agency);
        tally_free(&r.groups[i].ops);
        tally_free(&r.groups[i].actors);
    }
    free(r.groups);
    free(r.index);
    return rc;
}

/* ---- the command ---- */

static int run_audit(struct cli *g, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(struct cli *g, int argc, char **argv);
    } subs[] = {
        {"pull", audit_pull},
        {"verify", audit_verify},
        {"report", audit_report},
    };
    int ch;

    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            if (strcmp(argv[1], subs[i].name) == 0) {
                optind = 0; /* GNU getopt: start over on the subcommand's arguments */
                return subs[i].run(g, argc - 1, argv + 1);
            }
        }
        return cli_usage_error("audit has no subcommand \"%s\" (pull, verify, report)", argv[1]);
    }
    ch = cli_getopt(g, argc, argv, "+:", NULL);
    if (ch != -1)
        return cli_other_flag("audit", ch);
    return cli_usage_error("audit wants a subcommand: pull, verify or report");
}

const struct cli_command cli_audit_command = {
    "audit",
    run_audit,
    "  audit pull              copy the audit trail and its signed checkpoints to files\n"
    "  audit verify            check a copied trail against the checkpoints, offline\n"
    "  audit report            who accessed which case, from a copied trail\n",
    "usage: ritra [flags] audit pull [--from-seq N] [--to-seq N] [--from TIME] [--to TIME]\n"
    "                                [--agency A] [--operation OP] [--case UUID] [--actor X]\n"
    "                                [--limit N] [--state FILE] [--format jsonl|csv]\n"
    "                                [--out FILE] [--checkpoints FILE]\n"
    "       ritra [flags] audit verify --entries FILE --checkpoints FILE --pubkey FILE...\n"
    "       ritra [flags] audit report --entries FILE [--from TIME] [--to TIME]\n"
    "\n"
    "pull    pages through the trail (auditors see all of it, other agencies the\n"
    "        entries about their own cases) and appends one AuditEntry per line:\n"
    "        JSON Lines, or CSV with a header line (RFC 4180). stderr gets\n"
    "        \"N entries, K new checkpoints[, next seq S saved]\".\n"
    "  --from-seq N / --to-seq N   chain positions to pull (default from 1)\n"
    "  --from TIME / --to TIME     entries recorded from TIME / before TIME (RFC 3339)\n"
    "  --agency A, --operation OP, --case UUID, --actor X   only matching entries\n"
    "                              (here --actor filters; name yourself before the\n"
    "                              command: ritra --actor NAME audit pull ...)\n"
    "  --limit N                   entries per request, 1 to 5000 (server default 1000)\n"
    "  --state FILE                resume from the next seq saved in FILE and save the\n"
    "                              new one once the entries are on disk (FILE.lock\n"
    "                              guards it); --from-seq counts only while FILE is absent\n"
    "  --format jsonl|csv          default jsonl\n"
    "  --out FILE                  append to FILE (created 0600), not standard output\n"
    "  --checkpoints FILE          append the signed checkpoints to FILE, one JSON\n"
    "                              object per line, each seq once (keep this file: it\n"
    "                              is what a later verify trusts)\n"
    "verify  offline: recomputes the hash chain of the entries (JSON Lines from an\n"
    "        unfiltered pull, from seq 1 or from a checkpoint), checks seq\n"
    "        contiguity, the prev_hash links, each checkpoint's signature and its\n"
    "        hash at its seq, and that no checkpoint lies beyond the last entry.\n"
    "        Prints \"OK: N entries, chain intact up to seq S, K checkpoints\n"
    "        verified\" (exit 0) or \"FAIL at seq N: REASON\" for the first bad\n"
    "        seq (exit 1).\n"
    "  --pubkey FILE               the audit public key, PEM (repeatable: old keys)\n"
    "report  per case and acting agency: accesses, failed ones, first and last\n"
    "        time, counts by operation, the actors:\n"
    "          CASE_ID AGENCY ACCESSES FAILED FIRST LAST OPERATIONS ACTORS\n"
    "  --from TIME / --to TIME     only entries in [from, to) (YYYY-MM-DD or RFC 3339)\n"
    "\n"
    "--json: verify prints one object {\"ok\":...,\"bad_seq\":...,\"reason\":...,...};\n"
    "report one object per case and agency. client-lib/cli_audit.c and\n"
    "docs/audit.md describe the formats.\n",
};
