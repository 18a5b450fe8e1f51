/*
 * ritra-match-bench run: what tools/bench/match-speed measures once the
 * fixture is loaded and ritra-server started on it.
 *
 *   fidelity  the fixture's check: cases the loader wrote (bench.fid_*)
 *             are submitted through the server, and the rows the server and
 *             its matcher wrote must equal the loader's, table by table;
 *   match     held-out records submitted one case at a time, each waited
 *             for until matched: the matcher's own time per person (its
 *             matcher_batch log line, batches of one), submit-to-linked
 *             latency, and whether the right identity was joined;
 *   search    held-out duplicates as SearchPersons queries from the police
 *             agency, interleaved query by query with the baseline: plain
 *             pg_trgm similarity on full names (GIN gin_trgm_ops), with and
 *             without a birth-year filter, through libpq. Latency and
 *             recall of the right identity;
 *   profile   pg_stat_statements over both phases (database time per
 *             statement), then a short pass with every nested statement
 *             tracked and auto_explain logging plans slower than 10 ms.
 */
#include "bench_match.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_stat.h"
#include "match/from_proto.h"
#include "match/score.h"
#include "match_query.h"
#include "pgtext.h"
#include "ritra.h"

struct ropt {
    const char *pg, *holds, *addr, *pki, *server_log;
    int server_pid, pg_pid;
    int warmup, profile;
    uint64_t seed;
};

static void die(const char *msg)
{
    fprintf(stderr, "ritra-match-bench run: %s\n", msg);
    exit(1);
}

static struct ritra_conn *connect_as(const struct ropt *o, const char *code)
{
    char ca[512], cert[512], key[512];
    struct ritra_opts ro = {0};
    struct ritra_error err;
    struct ritra_conn *c;

    snprintf(ca, sizeof(ca), "%s/ca.crt", o->pki);
    snprintf(cert, sizeof(cert), "%s/%s.crt", o->pki, code);
    snprintf(key, sizeof(key), "%s/%s.key", o->pki, code);
    ro.addr = o->addr;
    ro.ca_file = ca;
    ro.cert_file = cert;
    ro.key_file = key;
    ro.actor = BM_ACTOR;
    ro.io_timeout_ms = 120000;
    c = ritra_connect(&ro, &err);
    if (c == NULL) {
        fprintf(stderr, "ritra-match-bench run: connect as %s: %s\n", code, err.message);
        exit(1);
    }
    return c;
}

static double ms(double us)
{
    return us / 1000.0;
}

/* ---- the server's log ---------------------------------------------------- */

struct logtail {
    int fd;
    char buf[65536];
    size_t len;
};

static void tail_open(struct logtail *t, const char *path)
{
    t->fd = open(path, O_RDONLY);
    if (t->fd < 0) {
        perror(path);
        exit(1);
    }
    lseek(t->fd, 0, SEEK_END);
    t->len = 0;
}

static long field_long(const char *line, const char *key)
{
    const char *p = strstr(line, key);

    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Waits for the next matcher_batch line (timeout_us). Returns 0 with the
 * line's figures, -1 on timeout. Error lines of the matcher are echoed. */
static int tail_next_batch(struct logtail *t, int64_t timeout_us, long *persons, long *cands,
                           long *us)
{
    int64_t end = bench_now_us() + timeout_us;

    for (;;) {
        char *nl;

        while ((nl = memchr(t->buf, '\n', t->len)) != NULL) {
            size_t n = (size_t)(nl - t->buf) + 1;
            char line[4096];

            snprintf(line, sizeof(line), "%.*s", (int)(n - 1), t->buf);
            memmove(t->buf, t->buf + n, t->len - n);
            t->len -= n;
            if (strstr(line, " event=matcher_batch ") != NULL) {
                *persons = field_long(line, " persons=");
                *cands = field_long(line, " candidates=");
                *us = field_long(line, " us=");
                return 0;
            }
            if (strstr(line, " event=matcher_") != NULL)
                fprintf(stderr, "server: %s\n", line);
        }
        if (t->len == sizeof(t->buf))
            t->len = 0; /* a line longer than the buffer: drop it */
        ssize_t r = read(t->fd, t->buf + t->len, sizeof(t->buf) - t->len);
        if (r > 0) {
            t->len += (size_t)r;
            continue;
        }
        if (bench_now_us() > end)
            return -1;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* The link of the first person of case_id: state, identity, linked_by. */
static int case_link(struct ritra_conn *c, const char *case_id, char state[16], char identity[40],
                     char linked_by[16], unsigned *review)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    const Ritra__PersonLink *l;

    if (ritra_case_matches(c, case_id, &resp, &err) < 0) {
        fprintf(stderr, "ritra-match-bench run: CaseMatches: %s\n", err.message);
        return -1;
    }
    if (resp->case_matches->n_persons < 1) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    l = resp->case_matches->persons[0];
    snprintf(state, 16, "%s", l->state);
    snprintf(identity, 40, "%s", l->identity_id);
    snprintf(linked_by, 16, "%s", l->linked_by);
    *review = l->review_pending;
    ritra__response__free_unpacked(resp, NULL);
    return 0;
}

/* Until no person of case_id is PENDING. */
static int wait_case_matched(struct ritra_conn *c, const char *case_id, int64_t timeout_us)
{
    int64_t end = bench_now_us() + timeout_us;

    while (bench_now_us() < end) {
        Ritra__Response *resp = NULL;
        struct ritra_error err;
        bool pending = false;

        if (ritra_case_matches(c, case_id, &resp, &err) < 0) {
            fprintf(stderr, "ritra-match-bench run: CaseMatches: %s\n", err.message);
            return -1;
        }
        for (size_t i = 0; i < resp->case_matches->n_persons; i++)
            pending = pending || strcmp(resp->case_matches->persons[i]->state, "PENDING") == 0;
        ritra__response__free_unpacked(resp, NULL);
        if (!pending)
            return 0;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* ---- fidelity -------------------------------------------------------------- */

/* Rows in one select and not the other, both ways. */
static long differ(PGconn *db, const char *what, const char *server_sql, const char *loader_sql,
                   long *rows)
{
    char sql[8192];
    long d;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s) x", server_sql);
    *rows = bm_query_long(db, sql);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (((%s) EXCEPT ALL (%s)) UNION ALL ((%s) EXCEPT ALL (%s))) d",
             server_sql, loader_sql, loader_sql, server_sql);
    d = bm_query_long(db, sql);
    if (d != 0)
        fprintf(stderr, "fidelity: %s: %ld rows differ\n", what, d);
    return d;
}

/* tmpl with every {T} replaced by prefix. */
static void with_prefix(char *out, size_t cap, const char *tmpl, const char *prefix)
{
    size_t len = 0, pl = strlen(prefix);

    for (const char *p = tmpl; *p && len + pl + 1 < cap; p++) {
        if (strncmp(p, "{T}", 3) == 0) {
            memcpy(out + len, prefix, pl);
            len += pl;
            p += 2;
        } else {
            out[len++] = *p;
        }
    }
    out[len] = '\0';
}

static int fidelity(PGconn *db, struct ritra_conn **conns, int n_fid)
{
    /* The same select over the server's rows (s = "") and the loader's
     * (s = "bench.fid_"); ids and timestamps are the only columns left out. */
    static const char *const checks[][2] = {
        {"cases",
         "SELECT owner_agency_id, external_ref, version, status, handling_code, source_reliability,"
         " information_accuracy, exploitation_types, person_count, content_sha256, created_by,"
         " updated_by, h3_allow_hits FROM {T}cases WHERE external_ref LIKE 'fid-%'"},
        {"case_records", "SELECT c.external_ref, r.owner_agency_id, r.variant, r.record"
                         " FROM {T}case_records r JOIN {T}cases c USING (case_id)"
                         " WHERE c.external_ref LIKE 'fid-%'"},
        {"persons",
         "SELECT c.external_ref, p.owner_agency_id, p.person_ref, p.role, p.given_names,"
         " p.middle_name, p.first_surname, p.second_surname, p.aliases, p.sex, p.gender,"
         " p.birth_date, p.birth_year, p.citizenships, p.phones, p.trafficking_status,"
         " p.consent_given, p.consent_scope, p.consent_date"
         " FROM {T}persons p JOIN {T}cases c USING (case_id) WHERE c.external_ref LIKE 'fid-%'"},
        {"person_documents",
         "SELECT c.external_ref, p.person_ref, d.owner_agency_id, d.doc_type, d.number,"
         " d.number_norm, d.issuing_country FROM {T}person_documents d"
         " JOIN {T}persons p USING (person_id) JOIN {T}cases c USING (case_id)"
         " WHERE c.external_ref LIKE 'fid-%'"},
        {"case_events", "SELECT c.external_ref, e.owner_agency_id, e.ordinal, e.event_type,"
                        " e.event_date, e.date_from, e.date_to, e.country, e.state, e.city"
                        " FROM {T}case_events e JOIN {T}cases c USING (case_id)"
                        " WHERE c.external_ref LIKE 'fid-%'"},
        {"match_persons", "SELECT c.external_ref, p.person_ref, m.owner_agency_id, m.role,"
                          " m.person_pb FROM {T}match_persons m JOIN {T}persons p USING (person_id)"
                          " JOIN {T}cases c ON c.case_id = m.case_id"
                          " WHERE c.external_ref LIKE 'fid-%'"},
        {"match_keys", "SELECT c.external_ref, p.person_ref, k.key FROM {T}match_keys k"
                       " JOIN {T}persons p USING (person_id) JOIN {T}cases c USING (case_id)"
                       " WHERE c.external_ref LIKE 'fid-%'"},
    };
    PGresult *res = PQexec(db, "SELECT owner_code, external_ref, case_pb FROM bench.fid_submit"
                               " ORDER BY external_ref");
    long total_diff = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("cannot read bench.fid_submit");
    for (int i = 0; i < PQntuples(res) && i < n_fid; i++) {
        size_t len = 0;
        unsigned char *pb = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 2), &len);
        Ritra__Case *c = pb ? ritra__case__unpack(NULL, len, pb) : NULL;
        Ritra__Response *resp = NULL;
        struct ritra_error err;
        int owner = -1;

        for (int a = 0; a < BM_N_OWNERS; a++)
            if (strcmp(bm_owner_codes[a], PQgetvalue(res, i, 0)) == 0)
                owner = a;
        if (c == NULL || owner < 0)
            die("bad row in bench.fid_submit");
        if (ritra_submit_case(conns[owner], c, 0, &resp, &err) < 0) {
            fprintf(stderr, "fidelity: SubmitCase %s: %s\n%s\n", c->external_ref, err.message,
                    err.details);
            die("a loaded case was refused by the server");
        }
        if (wait_case_matched(conns[owner], resp->submit_case->case_id, 60000000) < 0)
            die("a fidelity case was not matched within 60 s");
        ritra__response__free_unpacked(resp, NULL);
        ritra__case__free_unpacked(c, NULL);
        PQfreemem(pb);
    }
    PQclear(res);
    /* the rows submission writes besides the projection */
    bm_exec(db, "CREATE TEMP TABLE fid_versions AS"
                " SELECT c.external_ref, 1::bigint AS version, c.status, c.content_sha256,"
                "        r.record, c.created_by AS submitted_by, c.owner_agency_id AS agency_id"
                "   FROM bench.fid_cases c JOIN bench.fid_case_records r"
                "     ON r.case_id = c.case_id AND r.variant = 'full'");
    bm_exec(db, "CREATE TEMP TABLE fid_feed AS"
                " SELECT c.external_ref, c.owner_agency_id AS agency_id FROM bench.fid_cases c"
                " UNION ALL SELECT c.external_ref, a.agency_id FROM bench.fid_cases c"
                " JOIN agencies a ON a.agency_id <> c.owner_agency_id AND a.kind <> 'auditor'"
                " JOIN policy_defaults d ON d.viewer_kind = a.kind AND d.level >= 1"
                " WHERE c.handling_code <> 'H3'");

    printf("| table | rows written by the server | rows differing from the loader's |\n"
           "|---|---|---|\n");
    for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
        char s_sql[2048], l_sql[2048];
        long rows, d;

        with_prefix(s_sql, sizeof(s_sql), checks[k][1], "");
        with_prefix(l_sql, sizeof(l_sql), checks[k][1], "bench.fid_");
        d = differ(db, checks[k][0], s_sql, l_sql, &rows);
        printf("| %s | %ld | %ld |\n", checks[k][0], rows, d);
        total_diff += d;
    }
    {
        long rows, d;

        d = differ(db, "case_versions",
                   "SELECT c.external_ref, v.version, v.status, v.content_sha256, v.record,"
                   " v.submitted_by, v.agency_id FROM case_versions v JOIN cases c USING (case_id)"
                   " WHERE c.external_ref LIKE 'fid-%'",
                   "SELECT * FROM fid_versions", &rows);
        printf("| case_versions | %ld | %ld |\n", rows, d);
        total_diff += d;
        d = differ(db, "sync_feed",
                   "SELECT c.external_ref, f.agency_id FROM sync_feed f JOIN cases c"
                   " USING (case_id) WHERE c.external_ref LIKE 'fid-%'",
                   "SELECT * FROM fid_feed", &rows);
        printf("| sync_feed | %ld | %ld |\n", rows, d);
        total_diff += d;
    }
    printf("\n");
    return total_diff == 0 ? 0 : -1;
}

/* ---- pg_stat_statements ------------------------------------------------------ */

static bool have_pgss;

static void pgss_reset(PGconn *db)
{
    if (have_pgss)
        bm_exec(db, "SELECT bench.pg_stat_statements_reset()");
}

/* The statements that took the most database time since the reset. */
static void pgss_print(PGconn *db, const char *title, int top, const char *filter)
{
    char sql[1024];
    PGresult *r;

    if (!have_pgss)
        return;
    snprintf(sql, sizeof(sql),
             "SELECT regexp_replace(left(query, 110), '\\s+', ' ', 'g'), calls,"
             "       round(mean_exec_time::numeric, 3), round(total_exec_time::numeric, 0),"
             "       round(rows::numeric / greatest(calls, 1), 1)"
             "  FROM bench.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
             "       WHERE datname = current_database()) AND %s"
             " ORDER BY total_exec_time DESC LIMIT %d",
             filter, top);
    r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "pg_stat_statements: %s", PQresultErrorMessage(r));
        PQclear(r);
        return;
    }
    printf("%s\n\n| statement | calls | mean ms | total ms | rows/call |\n|---|---|---|---|---|\n",
           title);
    for (int i = 0; i < PQntuples(r); i++) {
        char q[256];
        size_t k = 0;

        /* pipes would split the Markdown cell */
        for (const char *p = PQgetvalue(r, i, 0); *p && k + 2 < sizeof(q); p++)
            q[k++] = *p == '|' ? '/' : *p;
        q[k] = '\0';
        printf("| `%s` | %s | %s | %s | %s |\n", q, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
               PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    }
    printf("\n");
    PQclear(r);
}

/* Database time (ms) of the statements matching filter since the reset. */
static double pgss_total_ms(PGconn *db, const char *filter)
{
    char sql[1024];
    PGresult *r;
    double v = -1;

    if (!have_pgss)
        return -1;
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(total_exec_time), 0) FROM bench.pg_stat_statements"
             " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
             "   AND (%s)",
             filter);
    r = PQexec(db, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    return v;
}

/* ---- matching ----------------------------------------------------------------- */

struct match_out {
    long us, cands;
    int64_t submit_us, e2e_us;
    int kind;
    bool linked, right, reviewed, timeout;
};

static void usage_line(const char *what, const struct proc_usage *u, double secs, long n)
{
    printf(
        "%s: %.1f s, server CPU %.2f s, PostgreSQL CPU %.2f s, this client %.2f s, all CPUs busy "
        "%.2f s (other programs: %.2f s); server+PostgreSQL CPU per operation %.2f ms\n\n",
        what, secs, u->server_cpu_s, u->pg_cpu_s, u->client_cpu_s, u->machine_busy_s,
        u->machine_busy_s - u->server_cpu_s - u->pg_cpu_s - u->client_cpu_s,
        n > 0 ? (u->server_cpu_s + u->pg_cpu_s) * 1000 / (double)n : 0);
}

static void match_phase(const struct ropt *o, PGconn *db, struct ritra_conn **conns,
                        const struct bm_hold *h, long nh, const char *prefix, bool report)
{
    const struct bm_hold **todo = calloc((size_t)nh + 1, sizeof(*todo));
    struct match_out *out;
    long n = 0, nm = 0, nn = 0;
    struct logtail lt;
    struct usage_probe probe;
    struct proc_usage u;
    int64_t t_start;

    if (todo == NULL)
        abort();
    /* duplicates and new persons interleaved */
    for (long i = 0; i < nh; i++) {
        nm += h[i].kind == BM_HOLD_MATCH;
        nn += h[i].kind == BM_HOLD_NEW;
    }
    for (long i = 0, im = 0, in = 0; i < nm + nn; i++) {
        bool want_new = nn > 0 && (i + 1) * nn / (nm + nn) != i * nn / (nm + nn);
        long *idx = want_new ? &in : &im;
        int kind = want_new ? BM_HOLD_NEW : BM_HOLD_MATCH;

        while (*idx < nh && h[*idx].kind != kind)
            (*idx)++;
        if (*idx < nh)
            todo[n++] = &h[(*idx)++];
    }
    out = calloc((size_t)n + 1, sizeof(*out));
    if (out == NULL)
        abort();
    tail_open(&lt, o->server_log);
    usage_probe_init(&probe, o->server_pid, o->pg_pid);
    pgss_reset(db);
    usage_probe_start(&probe);
    t_start = bench_now_us();
    for (long i = 0; i < n; i++) {
        const struct eval_person *rec = &todo[i]->p;
        struct match_out *mo = &out[i];
        int owner = (int)(i % BM_N_OWNERS);
        char ref[48], state[16] = "", identity[40] = "", linked_by[16] = "", case_id[40];
        Ritra__Response *resp = NULL;
        struct ritra_error err;
        struct bm_case *bc;
        unsigned review = 0;
        long persons = 0;
        int64_t t0, t1;

        snprintf(ref, sizeof(ref), "%s-%05ld", prefix, i);
        bc = bm_case_new(o->seed ^ 0x6d62ULL, ref, &rec, 1);
        mo->kind = todo[i]->kind;
        t0 = bench_now_us();
        if (ritra_submit_case(conns[owner], bm_case_msg(bc), 0, &resp, &err) < 0) {
            fprintf(stderr, "match: SubmitCase %s: %s\n%s\n", ref, err.message, err.details);
            die("a submission failed");
        }
        t1 = bench_now_us();
        snprintf(case_id, sizeof(case_id), "%s", resp->submit_case->case_id);
        ritra__response__free_unpacked(resp, NULL);
        bm_case_free(bc);
        mo->submit_us = t1 - t0;
        for (;;) {
            if (tail_next_batch(&lt, 60000000, &persons, &mo->cands, &mo->us) < 0) {
                mo->timeout = true;
                fprintf(stderr, "match: %s not matched within 60 s\n", ref);
                break;
            }
            mo->e2e_us = bench_now_us() - t0;
            if (case_link(conns[owner], case_id, state, identity, linked_by, &review) < 0)
                die("CaseMatches failed");
            if (strcmp(state, "PENDING") != 0)
                break;
        }
        if (persons != 1 && !mo->timeout)
            fprintf(stderr, "match: a batch of %ld persons (expected 1)\n", persons);
        mo->linked = strcmp(state, "LINKED") == 0;
        mo->right = mo->kind == BM_HOLD_NEW
                        ? !mo->linked
                        : mo->linked && strcmp(identity, todo[i]->identity) == 0;
        mo->reviewed = review > 0;
    }
    usage_probe_stop(&probe, &u);
    if (!report) {
        free(todo);
        free(out);
        close(lt.fd);
        return;
    }
    {
        uint32_t *v_us = calloc((size_t)n + 1, sizeof(uint32_t)),
                 *v_c = calloc((size_t)n + 1, sizeof(uint32_t)),
                 *v_sub = calloc((size_t)n + 1, sizeof(uint32_t)),
                 *v_e2e = calloc((size_t)n + 1, sizeof(uint32_t));
        struct lat_summary s_us, s_c, s_sub, s_e2e;
        long k = 0, dup_right = 0, dup_wrong = 0, dup_review = 0, dup_new = 0, new_right = 0,
             new_wrong = 0, timeouts = 0;

        for (long i = 0; i < n; i++) {
            if (out[i].timeout) {
                timeouts++;
                continue;
            }
            v_us[k] = (uint32_t)out[i].us;
            v_c[k] = (uint32_t)out[i].cands;
            v_sub[k] = (uint32_t)out[i].submit_us;
            v_e2e[k] = (uint32_t)out[i].e2e_us;
            k++;
            if (out[i].kind == BM_HOLD_NEW) {
                new_right += !out[i].linked;
                new_wrong += out[i].linked;
            } else if (out[i].right) {
                dup_right++;
            } else if (out[i].linked) {
                dup_wrong++;
            } else if (out[i].reviewed) {
                dup_review++;
            } else {
                dup_new++;
            }
        }
        lat_summarize(v_us, (size_t)k, &s_us);
        lat_summarize(v_c, (size_t)k, &s_c);
        lat_summarize(v_sub, (size_t)k, &s_sub);
        lat_summarize(v_e2e, (size_t)k, &s_e2e);
        printf("#### Matching a submitted person (%ld submissions, one person per case, one at a "
               "time)\n\n",
               n);
        printf("| measure | p50 | p90 | p99 | max | mean |\n|---|---|---|---|---|---|\n");
        printf(
            "| matcher time per person, ms (matcher_batch us, batches of 1) | %.2f | %.2f | %.2f "
            "| %.2f | %.2f |\n",
            ms(s_us.p50), ms(s_us.p90), ms(s_us.p99), ms(s_us.max), ms(s_us.mean));
        printf("| candidates scored per person | %.0f | %.0f | %.0f | %.0f | %.1f |\n", s_c.p50,
               s_c.p90, s_c.p99, s_c.max, s_c.mean);
        printf("| SubmitCase round trip, ms | %.2f | %.2f | %.2f | %.2f | %.2f |\n", ms(s_sub.p50),
               ms(s_sub.p90), ms(s_sub.p99), ms(s_sub.max), ms(s_sub.mean));
        printf("| submit to linked (log line seen), ms | %.2f | %.2f | %.2f | %.2f | %.2f |\n\n",
               ms(s_e2e.p50), ms(s_e2e.p90), ms(s_e2e.p99), ms(s_e2e.max), ms(s_e2e.mean));
        printf(
            "| submitted | count | joined the right identity | joined another identity | new "
            "identity, pair in review | new identity, nothing pending |\n|---|---|---|---|---|---|"
            "\n");
        printf(
            "| corrupted duplicate of a loaded person | %ld | %ld (%.1f%%) | %ld | %ld | %ld |\n",
            nm, dup_right, nm ? 100.0 * (double)dup_right / (double)nm : 0, dup_wrong, dup_review,
            dup_new);
        printf("| new person (no loaded record) | %ld | - | %ld (false links) | %ld (right: "
               "new) | |\n\n",
               nn, new_wrong, new_right);
        if (timeouts)
            printf("%ld submissions were not matched within 60 s.\n\n", timeouts);
        usage_line("Matching phase", &u, (double)(bench_now_us() - t_start) / 1e6, n);
        {
            double db_ms = pgss_total_ms(db, "query LIKE '%ritra_match_claim(%'"
                                             " OR query LIKE '%ritra_match_candidates(%'"
                                             " OR query LIKE '%ritra_match_rejected(%'"
                                             " OR query LIKE '%ritra_match_apply(%'"
                                             " OR query LIKE 'SELECT ritra_match_begin()%'");

            if (db_ms >= 0 && k > 0)
                printf("Matcher time split: of the mean %.2f ms per person, PostgreSQL executes "
                       "the matcher's statements (claim, candidates, rejected pairs, apply, and "
                       "ritra_match_begin() in each of the three transactions) for %.2f ms; the "
                       "remaining %.2f ms are ritra-server (decoding and scoring the candidates, "
                       "the apply document) and the round trips between them.\n\n",
                       ms(s_us.mean), db_ms / (double)k, ms(s_us.mean) - db_ms / (double)k);
        }
        pgss_print(db,
                   "Database time per statement during the matching phase "
                   "(pg_stat_statements, top-level statements):",
                   12, "true");
        free(v_us);
        free(v_c);
        free(v_sub);
        free(v_e2e);
    }
    free(todo);
    free(out);
    close(lt.fd);
}

/* ---- search ---------------------------------------------------------------------- */

struct query {
    Ritra__SearchPersonsRequest req;
    char name[260], given[130], surnames[130], birth[16], doc[40], doc_type[24], cit[4];
    char text[260]; /* the baseline's: the full name */
    int year;       /* 0: none */
    const char *truth;
    bool findable;
};

static void join_words(char *out, size_t cap, const char *const *w, size_t n)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (w[i] == NULL || !w[i][0])
            continue;
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? " " : "", w[i]);
    }
}

/* A query as an investigator would type it from a corrupted record. */
static void make_query(struct query *q, const struct bm_hold *h, uint64_t seed, long i)
{
    const struct eval_person *p = &h->p;
    uint64_t s = bm_mix(seed ^ bm_mix((uint64_t)i ^ 0x5ea7c4ULL));
    const char *all[4] = {p->given, p->middle, p->surname1, p->surname2};
    const char *gv[2] = {p->given, p->middle}, *sn[2] = {p->surname1, p->surname2};
    int y = 0, m = 0, d = 0;

    memset(q, 0, sizeof(*q));
    ritra__search_persons_request__init(&q->req);
    q->truth = h->identity;
    join_words(q->text, sizeof(q->text), all, 4);
    if ((s = bm_mix(s)) % 100 < 65) {
        snprintf(q->name, sizeof(q->name), "%s", q->text);
        q->req.name = q->name;
    } else {
        join_words(q->given, sizeof(q->given), gv, 2);
        join_words(q->surnames, sizeof(q->surnames), sn, 2);
        q->req.given_names = q->given;
        q->req.surnames = q->surnames;
    }
    snprintf(q->birth, sizeof(q->birth), "%s", bm_birthdate(p));
    if (strlen(q->birth) >= 4 && (s = bm_mix(s)) % 100 < 15) {
        q->birth[4] = '\0'; /* only the year */
    } else if (sscanf(q->birth, "%4d-%2d-%2d", &y, &m, &d) == 3 && d <= 12 && d != m &&
               (s = bm_mix(s)) % 100 < 10) {
        snprintf(q->birth, sizeof(q->birth), "%04d-%02d-%02d", y, d, m); /* day and month swapped */
    }
    q->req.birth_date = q->birth;
    q->year = strlen(q->birth) >= 4 ? (int)strtol(q->birth, NULL, 10) : 0;
    if (p->doc_number[0] && (s = bm_mix(s)) % 100 < 60) {
        snprintf(q->doc, sizeof(q->doc), "%s", p->doc_number);
        q->req.document_number = q->doc;
        if ((s = bm_mix(s)) % 2 == 0) {
            snprintf(q->doc_type, sizeof(q->doc_type), "%s", p->doc_type);
            q->req.document_type = q->doc_type;
        }
    }
    if (p->citizenship[0] && (s = bm_mix(s)) % 100 < 30) {
        snprintf(q->cit, sizeof(q->cit), "%s", p->citizenship);
        q->req.citizenship = q->cit;
    }
    q->req.page_size = 10;
}

size_t bm_query_keys(const struct bm_hold *h, uint64_t seed, long i, char keys[][SCORE_KEY_MAX])
{
    struct query q;
    struct mquery mq;
    struct match_proto mp;
    size_t nk;

    make_query(&q, h, seed, i);
    mquery_build(&mq, &q.req);
    if (match_proto_fill(&mp, &mq.person) < 0)
        abort();
    nk = score_blocking_keys(&mp.person, keys, SCORE_MAX_KEYS);
    match_proto_clear(&mp);
    return nk;
}

struct method {
    const char *name;
    uint32_t *lat;
    long n, hit1, hit10, hit1_f, hit10_f, empty, errors;
};

static void score_result(struct method *m, const struct query *q, const char *const *ids, size_t n)
{
    bool h1 = n > 0 && strcmp(ids[0], q->truth) == 0, h10 = false;

    for (size_t k = 0; k < n && k < 10; k++)
        h10 = h10 || strcmp(ids[k], q->truth) == 0;
    m->hit1 += h1;
    m->hit10 += h10;
    m->hit1_f += h1 && q->findable;
    m->hit10_f += h10 && q->findable;
    m->empty += n == 0;
}

static void run_ritra(struct method *m, struct ritra_conn *c, const struct query *q, bool measure)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    const char *ids[10] = {NULL};
    size_t n = 0;
    int64_t t0 = bench_now_us(), t1;
    int rc = ritra_search_persons(c, &q->req, &resp, &err);

    t1 = bench_now_us();
    if (!measure) {
        if (rc == 0)
            ritra__response__free_unpacked(resp, NULL);
        return;
    }
    m->lat[m->n++] = (uint32_t)(t1 - t0);
    if (rc < 0) {
        if (m->errors++ < 5)
            fprintf(stderr, "search: %s (%s)\n", err.message, q->text);
        score_result(m, q, ids, 0);
        return;
    }
    for (size_t k = 0; k < resp->search_persons->n_identities && n < 10; k++)
        ids[n++] = resp->search_persons->identities[k]->identity_id;
    score_result(m, q, ids, n);
    ritra__response__free_unpacked(resp, NULL);
}

static void run_trgm(struct method *m, PGconn *db, const char *stmt, int nparams,
                     const struct query *q, bool measure)
{
    char year[16];
    const char *v[2] = {q->text, year};
    const char *ids[10] = {NULL};
    int64_t t0, t1;
    PGresult *r;
    int n;

    snprintf(year, sizeof(year), "%d", q->year);
    t0 = bench_now_us();
    r = PQexecPrepared(db, stmt, nparams, v, NULL, NULL, 0);
    t1 = bench_now_us();
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "baseline: %s", PQresultErrorMessage(r));
        exit(1);
    }
    if (measure) {
        m->lat[m->n++] = (uint32_t)(t1 - t0);
        n = PQntuples(r);
        for (int k = 0; k < n && k < 10; k++)
            ids[k] = PQgetvalue(r, k, 0);
        score_result(m, q, ids, n > 10 ? 10 : (size_t)n);
    }
    PQclear(r);
}

static void prepare(PGconn *db, const char *name, int nparams, const char *sql)
{
    PGresult *r = PQprepare(db, name, sql, nparams, NULL);

    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "prepare %s: %s", name, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

static void build_baseline(PGconn *db, int searcher)
{
    char sql[2048];
    int64_t t0 = bench_now_us();

    bm_exec(db, "CREATE SCHEMA IF NOT EXISTS bench");
    bm_exec(db, "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA bench");
    bm_exec(db, "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA bench");
    bm_exec(db, "SET search_path = bench, public");
    bm_exec(db, "DROP TABLE IF EXISTS bench.trgm_persons");
    /* The records the searching agency may at least hit, as ritra's search
     * counts them: its own cases, every case not H3, H3 with hits allowed. */
    snprintf(sql, sizeof(sql),
             "CREATE TABLE bench.trgm_persons AS"
             " SELECT m.person_id, m.identity_id, p.birth_year,"
             "        lower(bench.unaccent(concat_ws(' ', p.given_names, p.middle_name,"
             "              p.first_surname, p.second_surname))) AS full_name"
             "   FROM match_persons m JOIN persons p ON p.person_id = m.person_id"
             "   JOIN cases c ON c.case_id = m.case_id"
             "  WHERE c.owner_agency_id = %d OR c.handling_code <> 'H3' OR c.h3_allow_hits",
             searcher);
    bm_exec(db, sql);
    bm_exec(db, "SET maintenance_work_mem = '512MB'");
    bm_exec(db, "CREATE INDEX trgm_persons_name_idx ON bench.trgm_persons"
                " USING gin (full_name bench.gin_trgm_ops)");
    bm_exec(db, "CREATE INDEX trgm_persons_year_idx ON bench.trgm_persons (birth_year)");
    bm_exec(db, "VACUUM ANALYZE bench.trgm_persons");
    bm_exec(db, "RESET maintenance_work_mem");
    printf("Baseline table: %ld rows, built with its indexes in %.1f s. ",
           bm_query_long(db, "SELECT count(*) FROM bench.trgm_persons"),
           (double)(bench_now_us() - t0) / 1e6);
    {
        PGresult *r = PQexec(db, "SELECT pg_size_pretty(pg_relation_size('bench.trgm_persons')),"
                                 " pg_size_pretty(pg_relation_size('bench.trgm_persons_name_idx')),"
                                 " current_setting('pg_trgm.similarity_threshold')");

        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            printf("Table %s, its GIN index %s; pg_trgm.similarity_threshold = %s.\n\n",
                   PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
        PQclear(r);
    }
}

static void findable(PGconn *db, struct query *q, long n, int searcher)
{
    struct sbuf ids = {0};
    char s[16];
    const char *v[2];
    PGresult *r;

    sb_puts(&ids, "{");
    for (long i = 0; i < n; i++)
        sb_printf(&ids, "%s%s", i ? "," : "", q[i].truth);
    sb_puts(&ids, "}");
    snprintf(s, sizeof(s), "%d", searcher);
    v[0] = ids.p;
    v[1] = s;
    r = PQexecParams(db,
                     "SELECT DISTINCT m.identity_id::text FROM match_persons m"
                     "  JOIN cases c ON c.case_id = m.case_id"
                     " WHERE m.identity_id = ANY ($1::uuid[])"
                     "   AND (c.owner_agency_id = $2::integer OR c.handling_code <> 'H3'"
                     "        OR c.h3_allow_hits)",
                     2, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("findable query failed");
    for (long i = 0; i < n; i++)
        for (int k = 0; k < PQntuples(r) && !q[i].findable; k++)
            q[i].findable = strcmp(PQgetvalue(r, k, 0), q[i].truth) == 0;
    PQclear(r);
    sb_free(&ids);
}

static void print_method(const struct method *m, long nq, long nf)
{
    struct lat_summary s;
    uint32_t *copy = malloc(sizeof(uint32_t) * ((size_t)m->n + 1));

    memcpy(copy, m->lat, sizeof(uint32_t) * (size_t)m->n);
    lat_summarize(copy, (size_t)m->n, &s);
    printf("| %s | %ld | %.2f | %.2f | %.2f | %.2f | %.3f | %.3f | %.3f | %.3f | %ld |\n", m->name,
           m->n, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), (double)m->hit10 / (double)nq,
           (double)m->hit1 / (double)nq, nf ? (double)m->hit10_f / (double)nf : 0,
           nf ? (double)m->hit1_f / (double)nf : 0, m->empty);
    free(copy);
}

static void search_phase(const struct ropt *o, PGconn *db, struct ritra_conn *police, int searcher,
                         const struct bm_hold *h, long nh, long limit, bool report, bool baseline)
{
    struct query *q = calloc((size_t)nh + 1, sizeof(*q));
    struct method mr = {"ritra SearchPersons (police agency)"},
                  ma = {"baseline: pg_trgm `full_name % $1` by similarity"},
                  mb = {"baseline: pg_trgm, birth year ±1 when given"};
    PGconn *base = bm_connect(o->pg);
    struct usage_probe probe;
    struct proc_usage u;
    long n = 0, nf = 0;
    int64_t t_start;

    for (long i = 0; i < nh && n < limit; i++)
        if (h[i].kind == BM_HOLD_SEARCH) {
            make_query(&q[n], &h[i], o->seed, n);
            n++;
        }
    findable(db, q, n, searcher);
    for (long i = 0; i < n; i++)
        nf += q[i].findable;
    mr.lat = calloc((size_t)n + 1, sizeof(uint32_t));
    ma.lat = calloc((size_t)n + 1, sizeof(uint32_t));
    mb.lat = calloc((size_t)n + 1, sizeof(uint32_t));
    bm_exec(base, "SET search_path = bench, public");
    prepare(base, "trgm_name", 1,
            "SELECT identity_id::text FROM bench.trgm_persons"
            " WHERE full_name % lower(bench.unaccent($1::text))"
            " ORDER BY similarity(full_name, lower(bench.unaccent($1::text))) DESC LIMIT 10");
    prepare(base, "trgm_year", 2,
            "SELECT identity_id::text FROM bench.trgm_persons"
            " WHERE full_name % lower(bench.unaccent($1::text))"
            "   AND ($2::integer = 0 OR birth_year BETWEEN $2::integer - 1 AND $2::integer + 1)"
            " ORDER BY similarity(full_name, lower(bench.unaccent($1::text))) DESC LIMIT 10");
    /* The same warm-up for every method. */
    for (long i = 0; i < o->warmup && i < n; i++) {
        run_ritra(&mr, police, &q[i], false);
        if (baseline) {
            run_trgm(&ma, base, "trgm_name", 1, &q[i], false);
            run_trgm(&mb, base, "trgm_year", 2, &q[i], false);
        }
    }
    usage_probe_init(&probe, o->server_pid, o->pg_pid);
    pgss_reset(db);
    usage_probe_start(&probe);
    t_start = bench_now_us();
    /* Interleaved, in rotating order: whatever else the machine does falls
     * on all three alike. */
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            if (!baseline && (i + k) % 3 != 0)
                continue;
            switch ((i + k) % 3) {
            case 0:
                run_ritra(&mr, police, &q[i], true);
                break;
            case 1:
                run_trgm(&ma, base, "trgm_name", 1, &q[i], true);
                break;
            default:
                run_trgm(&mb, base, "trgm_year", 2, &q[i], true);
            }
        }
    }
    usage_probe_stop(&probe, &u);
    if (report) {
        printf("#### SearchPersons against the baseline (%ld corrupted queries, %ld of them for an "
               "identity the police may see at all)\n\n",
               n, nf);
        printf("| method | queries | p50 ms | p90 ms | p99 ms | max ms | recall@10 | recall@1 | "
               "recall@10 (findable) | recall@1 (findable) | empty answers |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|\n");
        print_method(&mr, n, nf);
        print_method(&ma, n, nf);
        print_method(&mb, n, nf);
        printf("\n");
        if (mr.errors)
            printf("%ld SearchPersons requests failed.\n\n", mr.errors);
        usage_line("Search phase (all three methods)", &u, (double)(bench_now_us() - t_start) / 1e6,
                   3 * n);
        {
            double cand = pgss_total_ms(db, "query LIKE '%ritra_search_candidates(%'"),
                   recs = pgss_total_ms(db, "query LIKE '%ritra_identity_records(%'"),
                   act = pgss_total_ms(db, "query LIKE 'SELECT ritra_act_as(%'"),
                   audit = pgss_total_ms(db, "query LIKE 'INSERT INTO audit_log%'");
            struct lat_summary s;
            uint32_t *copy = malloc(sizeof(uint32_t) * ((size_t)mr.n + 1));

            memcpy(copy, mr.lat, sizeof(uint32_t) * (size_t)mr.n);
            lat_summarize(copy, (size_t)mr.n, &s);
            free(copy);
            if (cand >= 0 && n > 0)
                printf(
                    "SearchPersons time split: of the mean %.2f ms per query seen by the client, "
                    "PostgreSQL spends %.2f ms in ritra_search_candidates(), %.2f ms in "
                    "ritra_identity_records() and %.2f ms in ritra_act_as() and the audit entry; "
                    "the remaining %.2f ms are ritra-server (decoding and scoring the "
                    "candidates, the reply), TLS and the round trips.\n\n",
                    ms(s.mean), cand / (double)n, recs / (double)n, (act + audit) / (double)n,
                    ms(s.mean) - (cand + recs + act + audit) / (double)n);
        }
        pgss_print(db,
                   "Database time per statement during the search phase "
                   "(pg_stat_statements, top-level statements):",
                   8, "true");
    }
    PQfinish(base);
    free(mr.lat);
    free(ma.lat);
    free(mb.lat);
    free(q);
}

/*
 * The candidate query of SearchPersons three ways, on the keys the server
 * computes for the same queries (mquery_build, score_blocking_keys), in a
 * superuser session acting as the searching agency:
 *
 *   function   ritra_search_candidates() as the server calls it;
 *   keys only  the same candidate records without any access decision;
 *   set-based  the same rows and levels with the decision written as joins
 *              (cases, agencies, grants, policy_defaults) in one statement,
 *              the rules of ritra_case_level/ritra_search_level inline: a
 *              sketch of a cheaper ritra_search_candidates, checked here to
 *              return exactly the function's (person, level) pairs.
 */
static const char sql_function[] =
    "SELECT person_id::text, (facts).level::text, identity_id, role, person_ref, person_pb,"
    "       (facts).owner_code, (facts).owner_name, (facts).contact"
    "  FROM ritra_search_candidates($1::text[], $2::integer, '{}'::text[]) ORDER BY 1";

static const char sql_keys_only[] =
    "SELECT DISTINCT m.person_id, m.identity_id, m.role, m.case_id, m.person_pb"
    "  FROM unnest($1::text[]) AS k (key)"
    " CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids"
    "                       FROM (SELECT mk.person_id FROM match_keys mk"
    "                              WHERE mk.key = k.key LIMIT $2::integer + 1) s) b"
    "  JOIN match_persons m ON m.person_id = ANY (b.ids)"
    " WHERE cardinality(b.ids) <= $2::integer";

static const char sql_set_based[] =
    "WITH ag AS ("
    "  SELECT a.agency_id, a.kind,"
    "         coalesce((SELECT d.level FROM policy_defaults d WHERE d.viewer_kind = a.kind), 0)"
    "           AS kind_default"
    "    FROM agencies a WHERE a.agency_id = $3::integer),"
    " cand AS ("
    "  SELECT DISTINCT m.person_id, m.identity_id, m.role, m.case_id, m.person_pb"
    "    FROM unnest($1::text[]) AS k (key)"
    "   CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids"
    "                         FROM (SELECT mk.person_id FROM match_keys mk"
    "                                WHERE mk.key = k.key LIMIT $2::integer + 1) s) b"
    "    JOIN match_persons m ON m.person_id = ANY (b.ids)"
    "   WHERE cardinality(b.ids) <= $2::integer),"
    " f AS ("
    "  SELECT cand.*, c.owner_agency_id, c.handling_code, c.h3_allow_hits, ag.agency_id AS viewer,"
    "         ag.kind, ag.kind_default, coalesce(g.direct, 0) AS direct,"
    "         coalesce(g.by_kind, 0) AS by_kind"
    "    FROM cand JOIN cases c ON c.case_id = cand.case_id CROSS JOIN ag"
    "    LEFT JOIN LATERAL ("
    "      SELECT max(gr.level) FILTER (WHERE gr.grantee_agency_id = ag.agency_id) AS direct,"
    "             max(gr.level) FILTER (WHERE gr.grantee_kind = ag.kind) AS by_kind"
    "        FROM grants gr WHERE gr.case_id = c.case_id AND gr.state = 'accepted'"
    "         AND (gr.expires_at IS NULL OR gr.expires_at > now())) g ON true),"
    " l AS ("
    "  SELECT f.*, CASE WHEN f.owner_agency_id = f.viewer THEN 3"
    "                   WHEN f.kind = 'auditor' THEN 0"
    "                   WHEN f.handling_code = 'H3' THEN f.direct"
    "                   ELSE greatest(f.direct, f.by_kind, f.kind_default) END AS case_level"
    "    FROM f),"
    " s AS ("
    "  SELECT l.*, CASE WHEN l.case_level >= 1 THEN l.case_level"
    "                   WHEN l.kind NOT IN ('police', 'prosecutor') THEN 0"
    "                   WHEN l.handling_code = 'H3' AND NOT l.h3_allow_hits THEN 0"
    "                   ELSE 1 END AS level"
    "    FROM l)"
    " SELECT s.person_id::text, s.level::text, s.identity_id, s.role, p.person_ref, s.person_pb,"
    "        o.code, o.name, o.contact"
    "   FROM s JOIN persons p ON p.person_id = s.person_id"
    "   JOIN agencies o ON o.agency_id = s.owner_agency_id"
    "  WHERE s.level >= 1 ORDER BY 1";

/* The second statement of a search: the page's identities with every record
 * the agency may know of (ritra_identity_records), as called, and the same
 * rows with the decision as joins. The page: the first ten identities of
 * the candidates, in uuid order (the server's are the ten best-scored). */
static const char sql_page[] =
    "SELECT coalesce(array_agg(i), '{}')::text FROM (SELECT DISTINCT c.identity_id AS i"
    "  FROM (SELECT DISTINCT m.identity_id FROM unnest($1::text[]) AS k (key)"
    "   CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids"
    "                         FROM (SELECT mk.person_id FROM match_keys mk"
    "                                WHERE mk.key = k.key LIMIT $2::integer + 1) s) b"
    "    JOIN match_persons m ON m.person_id = ANY (b.ids)"
    "   WHERE cardinality(b.ids) <= $2::integer) c ORDER BY 1 LIMIT 10) x";

static const char sql_records_function[] =
    "SELECT identity_id::text || ' ' || person_id::text, (facts).level::text, role, person_ref,"
    "       person_pb, (facts).owner_code"
    "  FROM ritra_identity_records($1::uuid[], false) ORDER BY 1";

static const char sql_records_set_based[] =
    "WITH viewer AS ("
    "  SELECT a.agency_id, a.kind,"
    "         coalesce((SELECT d.level FROM policy_defaults d WHERE d.viewer_kind = a.kind), 0)"
    "           AS kind_default"
    "    FROM agencies a WHERE a.agency_id = $2::integer),"
    " f AS ("
    "  SELECT m.*, c.owner_agency_id AS owner, c.handling_code, c.h3_allow_hits,"
    "         v.agency_id AS viewer, v.kind, v.kind_default, coalesce(g.direct, 0) AS direct,"
    "         coalesce(g.by_kind, 0) AS by_kind"
    "    FROM match_persons m JOIN cases c ON c.case_id = m.case_id CROSS JOIN viewer v"
    "    LEFT JOIN LATERAL ("
    "      SELECT max(gr.level) FILTER (WHERE gr.grantee_agency_id = v.agency_id) AS direct,"
    "             max(gr.level) FILTER (WHERE gr.grantee_kind = v.kind) AS by_kind"
    "        FROM grants gr WHERE gr.case_id = c.case_id AND gr.state = 'accepted'"
    "         AND (gr.expires_at IS NULL OR gr.expires_at > now())) g ON true"
    "   WHERE m.identity_id = ANY ($1::uuid[])),"
    " l AS ("
    "  SELECT f.*, CASE WHEN f.owner = f.viewer THEN 3"
    "                   WHEN f.kind = 'auditor' THEN 0"
    "                   WHEN f.handling_code = 'H3' THEN f.direct"
    "                   ELSE greatest(f.direct, f.by_kind, f.kind_default) END AS case_level"
    "    FROM f),"
    " s AS ("
    "  SELECT l.*, CASE WHEN l.case_level >= 1 THEN l.case_level"
    "                   WHEN l.kind NOT IN ('police', 'prosecutor') THEN 0"
    "                   WHEN l.handling_code = 'H3' AND NOT l.h3_allow_hits THEN 0"
    "                   ELSE 1 END AS level"
    "    FROM l)"
    " SELECT s.identity_id::text || ' ' || s.person_id::text, s.level::text,"
    "        CASE WHEN s.level >= 2 THEN s.role END, CASE WHEN s.level >= 2 THEN p.person_ref END,"
    "        CASE WHEN s.level >= 2 THEN s.person_pb END, o.code"
    "   FROM s JOIN persons p ON p.person_id = s.person_id"
    "   JOIN agencies o ON o.agency_id = s.owner"
    "  WHERE s.level >= 1 ORDER BY 1";

/* Runs sql with the keys; returns the time and fills *rows (and the
 * "person level" lines of the first two columns into out, if given). */
static int64_t timed(PGconn *db, const char *sql, int nparams, const char *const *v, long *rows,
                     struct sbuf *out)
{
    int64_t t0 = bench_now_us(), t;
    PGresult *r = PQexecParams(db, sql, nparams, NULL, v, NULL, NULL, 0);

    t = bench_now_us() - t0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "experiment: %s", PQresultErrorMessage(r));
        exit(1);
    }
    *rows = PQntuples(r);
    for (int i = 0; out != NULL && i < PQntuples(r); i++)
        sb_printf(out, "%s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    return t;
}

static void search_sql_experiment(const struct ropt *o, PGconn *db, int searcher,
                                  const struct bm_hold *h, long nh)
{
    long n = 0, rows_f = 0, rows_k = 0, rows_s = 0, mismatched = 0, rec_rows_f = 0, rec_rows_s = 0,
         rec_mismatched = 0;
    uint32_t *tf = calloc((size_t)o->profile + 1, sizeof(uint32_t)),
             *tk = calloc((size_t)o->profile + 1, sizeof(uint32_t)),
             *ts = calloc((size_t)o->profile + 1, sizeof(uint32_t)),
             *tr_f = calloc((size_t)o->profile + 1, sizeof(uint32_t)),
             *tr_s = calloc((size_t)o->profile + 1, sizeof(uint32_t));
    struct lat_summary sf, sk, ss;
    char agency[16], cap[16], sql[128];

    if (tf == NULL || tk == NULL || ts == NULL || tr_f == NULL || tr_s == NULL)
        abort();
    snprintf(agency, sizeof(agency), "%d", searcher);
    snprintf(cap, sizeof(cap), "%d", 200);
    snprintf(sql, sizeof(sql), "SELECT set_config('ritra.agency_id', '%d', false)", searcher);
    bm_exec(db, sql);
    for (long i = 0; i < nh && n < o->profile; i++) {
        char keys[SCORE_MAX_KEYS][SCORE_KEY_MAX], *kp[SCORE_MAX_KEYS], *lit;
        size_t nk;
        const char *v[3];
        struct sbuf a = {0}, b = {0};
        long r1 = 0, r2 = 0, r3 = 0;

        if (h[i].kind != BM_HOLD_SEARCH)
            continue;
        nk = bm_query_keys(&h[i], o->seed, n, keys);
        for (size_t k = 0; k < nk; k++)
            kp[k] = keys[k];
        lit = pgtext_array(kp, nk);
        if (lit == NULL)
            abort();
        v[0] = lit;
        v[1] = cap;
        v[2] = agency;
        for (int k = 0; k < 3; k++) { /* rotating order, as in the search phase */
            switch ((n + k) % 3) {
            case 0:
                tf[n] = (uint32_t)timed(db, sql_function, 2, v, &r1, &a);
                break;
            case 1:
                tk[n] = (uint32_t)timed(db, sql_keys_only, 2, v, &r2, NULL);
                break;
            default:
                ts[n] = (uint32_t)timed(db, sql_set_based, 3, v, &r3, &b);
            }
        }
        rows_f += r1;
        rows_k += r2;
        rows_s += r3;
        if (a.len != b.len || (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
            mismatched++;
        sb_free(&a);
        sb_free(&b);
        {
            PGresult *pr = PQexecParams(db, sql_page, 2, NULL, v, NULL, NULL, 0);
            char ids[1024] = "{}";
            const char *w[2] = {ids, agency};

            if (PQresultStatus(pr) == PGRES_TUPLES_OK && PQntuples(pr) == 1)
                snprintf(ids, sizeof(ids), "%s", PQgetvalue(pr, 0, 0));
            PQclear(pr);
            if (n % 2 == 0) {
                tr_f[n] = (uint32_t)timed(db, sql_records_function, 1, w, &r1, &a);
                tr_s[n] = (uint32_t)timed(db, sql_records_set_based, 2, w, &r3, &b);
            } else {
                tr_s[n] = (uint32_t)timed(db, sql_records_set_based, 2, w, &r3, &b);
                tr_f[n] = (uint32_t)timed(db, sql_records_function, 1, w, &r1, &a);
            }
            rec_rows_f += r1;
            rec_rows_s += r3;
            if (a.len != b.len || (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
                rec_mismatched++;
            sb_free(&a);
            sb_free(&b);
        }
        free(lit);
        n++;
    }
    bm_exec(db, "SELECT set_config('ritra.agency_id', '', false)");
    if (n == 0)
        return;
    lat_summarize(tf, (size_t)n, &sf);
    lat_summarize(tk, (size_t)n, &sk);
    lat_summarize(ts, (size_t)n, &ss);
    printf("Candidate query of SearchPersons, three ways, on the server's keys for %ld of the "
           "queries (superuser session acting as the police agency, through libpq):\n\n"
           "| statement | p50 ms | p90 ms | max ms | mean ms | rows/query |\n"
           "|---|---|---|---|---|---|\n",
           n);
    printf("| `ritra_search_candidates()` (as the server calls it) | %.2f | %.2f | %.2f | %.2f | "
           "%.1f |\n",
           ms(sf.p50), ms(sf.p90), ms(sf.max), ms(sf.mean), (double)rows_f / (double)n);
    printf("| the same candidates, no access decision | %.2f | %.2f | %.2f | %.2f | %.1f |\n",
           ms(sk.p50), ms(sk.p90), ms(sk.max), ms(sk.mean), (double)rows_k / (double)n);
    printf("| the same rows and levels, decision as joins in one statement | %.2f | %.2f | %.2f | "
           "%.2f | %.1f |\n\n",
           ms(ss.p50), ms(ss.p90), ms(ss.max), ms(ss.mean), (double)rows_s / (double)n);
    printf("The set-based statement returned the function's (person, level) pairs exactly for "
           "%ld of the %ld queries.\n\n",
           n - mismatched, n);
    lat_summarize(tr_f, (size_t)n, &sf);
    lat_summarize(tr_s, (size_t)n, &ss);
    printf("The page's records (SearchPersons' second statement), for ten identities among each "
           "query's candidates:\n\n"
           "| statement | p50 ms | p90 ms | max ms | mean ms | rows/query |\n"
           "|---|---|---|---|---|---|\n");
    printf("| `ritra_identity_records(ids, false)` (as the server calls it) | %.2f | %.2f | %.2f | "
           "%.2f | %.1f |\n",
           ms(sf.p50), ms(sf.p90), ms(sf.max), ms(sf.mean), (double)rec_rows_f / (double)n);
    printf("| the same rows, decision as joins in one statement | %.2f | %.2f | %.2f | %.2f | %.1f "
           "|\n\n",
           ms(ss.p50), ms(ss.p90), ms(ss.max), ms(ss.mean), (double)rec_rows_s / (double)n);
    printf("The set-based statement returned the function's (identity, person, level) "
           "triples exactly for %ld of the %ld queries.\n\n",
           n - rec_mismatched, n);
    free(tf);
    free(tk);
    free(ts);
    free(tr_f);
    free(tr_s);
}

/* ---- profile ------------------------------------------------------------------------ */

static void sys_set(PGconn *db, const char *setting)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "ALTER SYSTEM SET %s", setting);
    bm_exec(db, sql);
}

/* Fresh connections: the server closes one idle for idle_timeout (5
 * minutes by default), which the owners' are while the police searches. */
static void reconnect(const struct ropt *o, struct ritra_conn **conns)
{
    for (int a = 0; a < BM_N_OWNERS; a++) {
        if (conns[a] != NULL)
            ritra_close(conns[a]);
        conns[a] = connect_as(o, bm_owner_codes[a]);
    }
}

static void profile_phase(const struct ropt *o, PGconn *db, struct ritra_conn **conns, int searcher,
                          const struct bm_hold *h, long nh)
{
    struct timespec settle = {0, 300000000};

    if (!have_pgss || o->profile <= 0)
        return;
    reconnect(o, conns);
    sys_set(db, "pg_stat_statements.track = 'all'");
    sys_set(db, "auto_explain.log_min_duration = '10ms'");
    sys_set(db, "auto_explain.log_analyze = on");
    sys_set(db, "auto_explain.log_buffers = on");
    sys_set(db, "auto_explain.log_nested_statements = on");
    sys_set(db, "log_min_messages = 'log'"); /* the cluster logs warnings and up */
    bm_exec(db, "SELECT pg_reload_conf()");
    nanosleep(&settle, NULL);
    /* a round trip on each pooled connection makes them read the reload */
    search_phase(o, db, conns[1], searcher, h, nh, 8, false, false);
    pgss_reset(db);
    search_phase(o, db, conns[1], searcher, h, nh, o->profile, false, false);
    pgss_print(db,
               "Profile pass, SearchPersons: database time per statement, nested statements "
               "included (pg_stat_statements.track = all):",
               14, "true");
    pgss_reset(db);
    {
        /* the first o->profile duplicates again, as new cases */
        struct bm_hold *sub = calloc((size_t)o->profile + 1, sizeof(*sub));
        long k = 0;

        for (long i = 0; i < nh && k < o->profile; i++)
            if (h[i].kind == BM_HOLD_MATCH)
                sub[k++] = h[i];
        match_phase(o, db, conns, sub, k, "mp", false);
        pgss_print(db,
                   "Profile pass, matching: database time per statement, nested statements "
                   "included:",
                   14, "true");
        free(sub);
    }
    bm_exec(db, "ALTER SYSTEM RESET pg_stat_statements.track");
    bm_exec(db, "ALTER SYSTEM RESET auto_explain.log_min_duration");
    bm_exec(db, "ALTER SYSTEM RESET auto_explain.log_analyze");
    bm_exec(db, "ALTER SYSTEM RESET auto_explain.log_buffers");
    bm_exec(db, "ALTER SYSTEM RESET auto_explain.log_nested_statements");
    bm_exec(db, "ALTER SYSTEM RESET log_min_messages");
    bm_exec(db, "SELECT pg_reload_conf()");
    nanosleep(&settle, NULL);
    search_sql_experiment(o, db, searcher, h, nh);
}

/* ---- main ----------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: ritra-match-bench run --pg CONNINFO --holds FILE --addr HOST:PORT --pki DIR\n"
            "         --server-log FILE [--server-pid PID] [--pg-pid PID] [--warmup W]\n"
            "         [--profile P] [--seed S] [--fidelity F]\n");
    exit(2);
}

int bm_run_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pg", required_argument, NULL, 'p'},         {"holds", required_argument, NULL, 'H'},
        {"addr", required_argument, NULL, 'a'},       {"pki", required_argument, NULL, 'k'},
        {"server-log", required_argument, NULL, 'l'}, {"server-pid", required_argument, NULL, 'S'},
        {"pg-pid", required_argument, NULL, 'P'},     {"warmup", required_argument, NULL, 'w'},
        {"profile", required_argument, NULL, 'r'},    {"seed", required_argument, NULL, 's'},
        {"fidelity", required_argument, NULL, 'f'},   {NULL, 0, NULL, 0}};
    struct ropt o = {.warmup = 50, .profile = 30, .seed = 20240611};
    struct ritra_conn *conns[BM_N_OWNERS];
    struct bm_hold *h = NULL;
    long nh;
    int ch, fid = 20, searcher, fid_rc = 0;
    PGconn *db;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o.pg = optarg;
            break;
        case 'H':
            o.holds = optarg;
            break;
        case 'a':
            o.addr = optarg;
            break;
        case 'k':
            o.pki = optarg;
            break;
        case 'l':
            o.server_log = optarg;
            break;
        case 'S':
            o.server_pid = (int)strtol(optarg, NULL, 10);
            break;
        case 'P':
            o.pg_pid = (int)strtol(optarg, NULL, 10);
            break;
        case 'w':
            o.warmup = (int)strtol(optarg, NULL, 10);
            break;
        case 'r':
            o.profile = (int)strtol(optarg, NULL, 10);
            break;
        case 's':
            o.seed = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            fid = (int)strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (o.pg == NULL || o.holds == NULL || o.addr == NULL || o.pki == NULL || o.server_log == NULL)
        usage();
    nh = bm_holds_read(o.holds, &h);
    if (nh < 0)
        exit(1);
    db = bm_connect(o.pg);
    searcher = bm_agency_id(db, BM_SEARCHER);
    bm_exec(db, "CREATE SCHEMA IF NOT EXISTS bench");
    {
        PGresult *r = PQexec(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
                                 " WITH SCHEMA bench");

        have_pgss = PQresultStatus(r) == PGRES_COMMAND_OK &&
                    bm_query_long(db, "SELECT count(*) FROM pg_settings WHERE name ="
                                      " 'shared_preload_libraries' AND setting LIKE"
                                      " '%pg_stat_statements%'") == 1;
        PQclear(r);
        if (!have_pgss)
            fprintf(stderr, "run: pg_stat_statements is not loaded; no database profile\n");
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* a failed phase keeps what came before */
    memset(conns, 0, sizeof(conns));
    reconnect(&o, conns);

    if (fid > 0) {
        printf("#### Fidelity of the fixture (%d cases loaded by COPY and submitted through the "
               "server)\n\n",
               fid);
        fid_rc = fidelity(db, conns, fid);
    }
    reconnect(&o, conns);
    match_phase(&o, db, conns, h, nh, "mb", true);
    build_baseline(db, searcher);
    reconnect(&o, conns);
    search_phase(&o, db, conns[1], searcher, h, nh, nh, true, true);
    profile_phase(&o, db, conns, searcher, h, nh);
    for (int a = 0; a < BM_N_OWNERS; a++)
        ritra_close(conns[a]);
    PQfinish(db);
    free(h);
    if (fid_rc != 0)
        fprintf(stderr, "run: the fixture's rows differ from the server's (see above)\n");
    return fid_rc == 0 ? 0 : 1;
}
