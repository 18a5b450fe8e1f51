/*
 * ritra-bench: load generator for case submission and sync.
 *
 *   ritra-bench submit --conns N --cases M [--batch B] [--pipeline P] ...
 *   ritra-bench get --ids FILE --conns N --cases M [--pipeline P] ...
 *   ritra-bench sync [--cases M] ...
 *
 * submit: N connections, one thread each, send M generated cases in all,
 * either as SubmitCase requests kept P deep in flight per connection, or
 * as SubmitCases requests of B cases. Every request is packed before the
 * clock starts, so the client's own case generation is not measured. The
 * pipelined sender is here rather than in libritra because the library
 * exposes no per-request timing: latency is send -> reply of each request.
 *
 * get: the same sender with GetCase requests (by case_id) instead: M
 * reads in all, each of a case drawn at random (fixed seed) from the ids
 * in FILE, one UUID per line; every answer must carry the whole case
 * (visibility FULL, i.e. the ids are the agency's own cases).
 *
 * sync: one libritra connection pulls the agency's whole feed from an
 * empty cursor (limit 1000 per pull) until more = false; with --cases it
 * first loads that many new cases.
 *
 * With --server-pid and --pg-pid the run also reports the CPU those
 * processes used during the measured window, and the server's peak RSS.
 * --json adds one line of JSON with every number.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sys/resource.h>

#include "bench_case.h"
#include "bench_stat.h"
#include "bench_wire.h"
#include "ritra.h"

#define MAX_CONNS    256
#define MAX_PIPELINE 64 /* the server's default max_inflight */
#define MAX_BATCH    1000
#define MAX_BAD_KEPT 5

struct opts {
    const char *addr, *ca, *cert, *key, *prefix, *ids_file;
    int conns, pipeline, batch, persons, limit, json;
    long cases;
    char **ids; /* get: the case ids to read */
    size_t nids;
    double duration; /* seconds; 0: until every case is sent */
    uint64_t seed;
    int server_pid, pg_pid;
};

/* One non-OK answer, kept to be printed. */
struct bad {
    int code;
    char text[600];
};

struct worker {
    int idx;
    const struct opts *o;
    struct wire *w;
    pthread_barrier_t *start;
    /* packed frames, built before the clock starts */
    uint8_t **frames;
    size_t *frame_len;
    int *frame_cases;
    size_t nreq;
    /* results */
    uint32_t *lat_us;
    size_t nlat;
    long cases_ok, created, non_ok;
    struct bad bad[MAX_BAD_KEPT];
    int nbad;
    int64_t last_us; /* monotonic time of the last reply */
    int64_t deadline_us;
    char error[300];
};

/* ---- building requests ---------------------------------------------- */

static uint8_t *pack_request(Ritra__Request *req, size_t *len)
{
    size_t n = ritra__request__get_packed_size(req);
    uint8_t *buf = malloc(n + 4);

    if (buf == NULL)
        abort();
    buf[0] = (uint8_t)(n >> 24);
    buf[1] = (uint8_t)(n >> 16);
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)n;
    if (ritra__request__pack(req, buf + 4) != n)
        abort();
    *len = n + 4;
    return buf;
}

/* splitmix64: the get mode's reproducible choice of cases. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Read number n of this worker: GetCase of one of the ids. */
static uint8_t *build_get(const struct worker *wk, uint64_t id, long n, size_t *len)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    uint64_t pick = mix64(wk->o->seed ^ mix64(((uint64_t)wk->idx << 40) ^ (uint64_t)n));

    get.case_id = wk->o->ids[pick % wk->o->nids];
    req.id = id;
    req.actor = "ritra-bench";
    req.protocol_version = RITRA_PROTOCOL_VERSION;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    return pack_request(&req, len);
}

/* Cases [first, first + count) of this worker as one request. */
static uint8_t *build_request(const struct worker *wk, uint64_t id, long first, int count,
                              size_t *len)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SubmitCaseRequest *items[MAX_BATCH], one[MAX_BATCH];
    Ritra__SubmitCasesRequest many = RITRA__SUBMIT_CASES_REQUEST__INIT;
    struct bench_case *bcs[MAX_BATCH];
    uint8_t *buf;

    if (wk->o->ids != NULL)
        return build_get(wk, id, first, len);
    for (int i = 0; i < count; i++) {
        char ref[128];

        snprintf(ref, sizeof(ref), "%s-%d-%ld", wk->o->prefix, wk->idx, first + i);
        bcs[i] = bench_case_new(wk->o->seed, ref, wk->o->persons);
        ritra__submit_case_request__init(&one[i]);
        one[i].case_ = (Ritra__Case *)bench_case_msg(bcs[i]);
        items[i] = &one[i];
    }
    req.id = id;
    req.actor = "ritra-bench";
    req.protocol_version = RITRA_PROTOCOL_VERSION;
    if (wk->o->batch > 0) {
        many.n_items = (size_t)count;
        many.items = items;
        req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
        req.submit_cases = &many;
    } else {
        req.op_case = RITRA__REQUEST__OP_SUBMIT_CASE;
        req.submit_case = items[0];
    }
    buf = pack_request(&req, len);
    for (int i = 0; i < count; i++)
        bench_case_free(bcs[i]);
    return buf;
}

static void worker_prepare(struct worker *wk, long ncases)
{
    int per = wk->o->batch > 0 ? wk->o->batch : 1;
    long first = 0;

    wk->nreq = (size_t)((ncases + per - 1) / per);
    wk->frames = calloc(wk->nreq, sizeof(*wk->frames));
    wk->frame_len = calloc(wk->nreq, sizeof(*wk->frame_len));
    wk->frame_cases = calloc(wk->nreq, sizeof(*wk->frame_cases));
    wk->lat_us = calloc(wk->nreq ? wk->nreq : 1, sizeof(*wk->lat_us));
    if (wk->frames == NULL || wk->frame_len == NULL || wk->frame_cases == NULL ||
        wk->lat_us == NULL)
        abort();
    for (size_t i = 0; i < wk->nreq; i++) {
        int n = ncases - first < per ? (int)(ncases - first) : per;

        wk->frames[i] = build_request(wk, i + 1, first, n, &wk->frame_len[i]);
        wk->frame_cases[i] = n;
        first += n;
    }
}

/* ---- checking answers ----------------------------------------------- */

static void keep_bad(struct worker *wk, const char *where, const Ritra__Status *st)
{
    struct bad *b;
    size_t o;

    wk->non_ok++;
    if (wk->nbad == MAX_BAD_KEPT)
        return;
    b = &wk->bad[wk->nbad++];
    b->code = st ? st->code : 0;
    o = (size_t)snprintf(b->text, sizeof(b->text), "%s: %s %s", where, ritra_status_name(b->code),
                         st && st->message ? st->message : "");
    for (size_t i = 0; st && i < st->n_details && o < sizeof(b->text); i++)
        o += (size_t)snprintf(b->text + o, sizeof(b->text) - o, "; %s: %s", st->details[i]->path,
                              st->details[i]->reason);
}

/* Counts the cases of one answer; frame i was the request. */
static void check_response(struct worker *wk, const Ritra__Response *r, size_t i)
{
    char where[64];

    snprintf(where, sizeof(where), "conn %d request %zu", wk->idx, i + 1);
    if (r->status == NULL || r->status->code != RITRA__STATUS_CODE__OK) {
        for (int k = 0; k < wk->frame_cases[i]; k++)
            keep_bad(wk, where, r->status);
        return;
    }
    if (wk->o->ids != NULL) {
        if (r->result_case != RITRA__RESPONSE__RESULT_GET_CASE || r->get_case == NULL ||
            r->get_case->case_ == NULL || strcmp(r->get_case->visibility, "FULL") != 0) {
            Ritra__Status st = RITRA__STATUS__INIT;

            st.message = "OK without the whole case";
            keep_bad(wk, where, &st);
            return;
        }
        wk->cases_ok++;
        return;
    }
    if (r->result_case == RITRA__RESPONSE__RESULT_SUBMIT_CASE && r->submit_case != NULL) {
        wk->cases_ok++;
        wk->created += r->submit_case->created;
        return;
    }
    if (r->result_case != RITRA__RESPONSE__RESULT_SUBMIT_CASES || r->submit_cases == NULL ||
        r->submit_cases->n_items != (size_t)wk->frame_cases[i]) {
        Ritra__Status st = RITRA__STATUS__INIT;

        st.message = "OK without the expected result";
        keep_bad(wk, where, &st);
        return;
    }
    for (size_t k = 0; k < r->submit_cases->n_items; k++) {
        const Ritra__SubmitCasesItem *it = r->submit_cases->items[k];

        if (it->status == NULL || it->status->code != RITRA__STATUS_CODE__OK) {
            snprintf(where, sizeof(where), "conn %d request %zu item %zu", wk->idx, i + 1, k);
            keep_bad(wk, where, it->status);
            continue;
        }
        wk->cases_ok++;
        wk->created += it->result != NULL && it->result->created;
    }
}

/* ---- the sender ----------------------------------------------------- */

struct slot {
    uint64_t id; /* 0: free */
    int64_t sent_us;
};

static int worker_run(struct worker *wk)
{
    struct slot slots[MAX_PIPELINE] = {{0, 0}};
    int depth = wk->o->pipeline, inflight = 0;
    size_t next = 0, done = 0;

    while (done < next || next < wk->nreq) {
        int64_t now = bench_now_us();
        size_t first = next;

        /* Fill the window; the frames go out in one write. */
        while (inflight < depth && next < wk->nreq &&
               (wk->deadline_us == 0 || now < wk->deadline_us)) {
            for (int s = 0; s < depth; s++) {
                if (slots[s].id == 0) {
                    slots[s].id = next + 1;
                    slots[s].sent_us = now;
                    break;
                }
            }
            next++;
            inflight++;
        }
        if (next > first && wire_write_frames(wk->w, &wk->frames[first], &wk->frame_len[first],
                                              next - first, wk->error, sizeof(wk->error)) < 0)
            return -1;
        if (inflight == 0)
            break; /* past the deadline with nothing in flight */
        /* Read at least one answer. */
        for (;;) {
            Ritra__Response *r = NULL;
            int got = wire_read_response(wk->w, &r, wk->error, sizeof(wk->error));
            int64_t t;

            if (got < 0)
                return -1;
            t = bench_now_us();
            for (int s = 0; s < depth; s++) {
                if (slots[s].id != 0 && slots[s].id == r->id) {
                    wk->lat_us[wk->nlat++] = (uint32_t)(t - slots[s].sent_us);
                    slots[s].id = 0;
                    inflight--;
                    done++;
                    check_response(wk, r, r->id - 1);
                    r->id = 0; /* matched */
                    break;
                }
            }
            if (r->id != 0) {
                snprintf(wk->error, sizeof(wk->error), "answer to unknown request id %" PRIu64,
                         r->id);
                ritra__response__free_unpacked(r, NULL);
                return -1;
            }
            ritra__response__free_unpacked(r, NULL);
            wk->last_us = t;
            if (!wire_has_buffered(wk->w))
                break;
        }
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;

    pthread_barrier_wait(wk->start);
    if (wk->w != NULL && worker_run(wk) < 0 && wk->error[0] == '\0')
        snprintf(wk->error, sizeof(wk->error), "connection failed");
    return NULL;
}

/* ---- one submit phase ----------------------------------------------- */

struct run_result {
    long cases_ok, created, non_ok, requests;
    double elapsed_s;
    struct lat_summary lat;
    struct proc_usage usage;
    int failed;
};

static int run_submit(const struct opts *o, struct run_result *res, int quiet)
{
    struct worker *wks = calloc((size_t)o->conns, sizeof(*wks));
    pthread_t *th = calloc((size_t)o->conns, sizeof(*th));
    pthread_barrier_t start;
    struct wire_ctx *ctx;
    struct usage_probe probe;
    char err[300];
    uint32_t *all;
    size_t nall = 0, total_req = 0;
    int64_t t0, tend = 0;
    int rc = 0;

    memset(res, 0, sizeof(*res));
    if (wks == NULL || th == NULL)
        abort();
    ctx = wire_ctx_new(o->ca, o->cert, o->key, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "ritra-bench: %s\n", err);
        return -1;
    }
    pthread_barrier_init(&start, NULL, (unsigned)o->conns + 1);
    for (int i = 0; i < o->conns; i++) {
        long share = o->cases / o->conns + (i < o->cases % o->conns ? 1 : 0);

        wks[i].idx = i;
        wks[i].o = o;
        wks[i].start = &start;
        worker_prepare(&wks[i], share);
        total_req += wks[i].nreq;
        wks[i].w = wire_open(ctx, o->addr, err, sizeof(err));
        if (wks[i].w == NULL) {
            fprintf(stderr, "ritra-bench: connection %d: %s\n", i, err);
            rc = -1;
        }
    }
    for (int i = 0; i < o->conns; i++)
        if (pthread_create(&th[i], NULL, worker_main, &wks[i]) != 0)
            abort();
    usage_probe_init(&probe, o->server_pid, o->pg_pid);
    t0 = bench_now_us();
    for (int i = 0; i < o->conns; i++)
        wks[i].deadline_us = o->duration > 0 ? t0 + (int64_t)(o->duration * 1e6) : 0;
    pthread_barrier_wait(&start);
    t0 = bench_now_us();
    usage_probe_start(&probe);
    for (int i = 0; i < o->conns; i++)
        pthread_join(th[i], NULL);
    usage_probe_stop(&probe, &res->usage);

    all = calloc(total_req ? total_req : 1, sizeof(*all));
    if (all == NULL)
        abort();
    for (int i = 0; i < o->conns; i++) {
        struct worker *wk = &wks[i];

        if (wk->error[0] != '\0') {
            fprintf(stderr, "ritra-bench: connection %d: %s\n", i, wk->error);
            rc = -1;
        }
        memcpy(all + nall, wk->lat_us, wk->nlat * sizeof(*all));
        nall += wk->nlat;
        res->cases_ok += wk->cases_ok;
        res->created += wk->created;
        res->non_ok += wk->non_ok;
        if (wk->last_us > tend)
            tend = wk->last_us;
        for (int k = 0; k < wk->nbad && !quiet; k++)
            fprintf(stderr, "ritra-bench: non-OK: %s\n", wk->bad[k].text);
        wire_close(wk->w);
        for (size_t k = 0; k < wk->nreq; k++)
            free(wk->frames[k]);
        free(wk->frames);
        free(wk->frame_len);
        free(wk->frame_cases);
        free(wk->lat_us);
    }
    res->requests = (long)nall;
    res->elapsed_s = tend > t0 ? (double)(tend - t0) / 1e6 : 0;
    lat_summarize(all, nall, &res->lat);
    res->failed = rc < 0;
    free(all);
    free(wks);
    free(th);
    wire_ctx_free(ctx);
    pthread_barrier_destroy(&start);
    return rc;
}

static void print_submit(const struct opts *o, const struct run_result *r)
{
    double cps = r->elapsed_s > 0 ? r->cases_ok / r->elapsed_s : 0;
    const char *mode = o->ids ? "get" : "submit";
    const char *op = o->batch > 0 ? "SubmitCases" : "SubmitCase";

    if (o->ids != NULL)
        op = "GetCase";
    printf("%s: %d conns, %s, %ld cases OK in %.2f s (%ld requests)\n", mode, o->conns, op,
           r->cases_ok, r->elapsed_s, r->requests);
    if (o->batch > 0)
        printf("  batch %d cases per request, %d request(s) in flight per connection\n", o->batch,
               o->pipeline);
    else
        printf("  pipeline %d requests in flight per connection\n", o->pipeline);
    printf("  %.1f cases/s%s; latency per request (send->reply): p50 %.2f ms, p90 %.2f ms, "
           "p99 %.2f ms, max %.2f ms, mean %.2f ms\n",
           cps, o->ids ? " read" : "", r->lat.p50 / 1e3, r->lat.p90 / 1e3, r->lat.p99 / 1e3,
           r->lat.max / 1e3, r->lat.mean / 1e3);
    printf("  non-OK statuses: %ld; newly created: %ld\n", r->non_ok, r->created);
    usage_print(&r->usage, stdout);
    if (o->json) {
        printf("{\"mode\":\"%s\",\"conns\":%d,\"pipeline\":%d,\"batch\":%d,\"persons\":%d,"
               "\"cases_ok\":%ld,\"created\":%ld,\"non_ok\":%ld,\"requests\":%ld,"
               "\"elapsed_s\":%.3f,\"cases_per_s\":%.1f,",
               mode, o->conns, o->pipeline, o->batch, o->persons, r->cases_ok, r->created,
               r->non_ok, r->requests, r->elapsed_s, cps);
        lat_json(&r->lat, stdout);
        usage_json(&r->usage, stdout);
        printf("\"failed\":%d}\n", r->failed);
    }
}

/* ---- sync ----------------------------------------------------------- */

static int run_sync(const struct opts *o)
{
    struct ritra_opts ro = {.addr = o->addr,
                            .ca_file = o->ca,
                            .cert_file = o->cert,
                            .key_file = o->key,
                            .actor = "ritra-bench"};
    struct ritra_error err;
    struct ritra_conn *c = ritra_connect(&ro, &err);
    struct usage_probe probe;
    struct proc_usage u;
    struct lat_summary lat;
    uint32_t *lat_us = NULL;
    size_t nlat = 0, cap = 0;
    char *cursor = strdup("");
    long changes = 0;
    uint64_t bytes = 0;
    int64_t t0, t1;
    int more = 1, rc = 0;

    if (c == NULL || cursor == NULL) {
        fprintf(stderr, "ritra-bench: connect: %s\n", err.message);
        free(cursor);
        return -1;
    }
    usage_probe_init(&probe, o->server_pid, o->pg_pid);
    usage_probe_start(&probe);
    t0 = bench_now_us();
    while (more) {
        Ritra__Response *resp = NULL;
        int64_t s = bench_now_us();
        const Ritra__SyncPullResult *res;

        if (ritra_sync_pull(c, cursor, (unsigned)o->limit, &resp, &err) < 0) {
            fprintf(stderr, "ritra-bench: sync_pull: %s %s\n", ritra_status_name(err.code),
                    err.message);
            rc = -1;
            break;
        }
        if (nlat == cap) {
            cap = cap ? cap * 2 : 256;
            lat_us = realloc(lat_us, cap * sizeof(*lat_us));
            if (lat_us == NULL)
                abort();
        }
        lat_us[nlat++] = (uint32_t)(bench_now_us() - s);
        res = resp->sync_pull;
        changes += (long)res->n_changes;
        bytes += ritra__response__get_packed_size(resp) + 4;
        more = res->more;
        free(cursor);
        cursor = strdup(res->next_cursor);
        if (cursor == NULL)
            abort();
        ritra__response__free_unpacked(resp, NULL);
    }
    t1 = bench_now_us();
    usage_probe_stop(&probe, &u);
    lat_summarize(lat_us, nlat, &lat);
    {
        double secs = (double)(t1 - t0) / 1e6;
        double cps = secs > 0 ? changes / secs : 0, mbps = secs > 0 ? bytes / secs / 1e6 : 0;

        printf("sync: %ld changes in %zu pulls (limit %d), %.2f s, %.1f MB\n", changes, nlat,
               o->limit, secs, bytes / 1e6);
        printf("  %.1f cases/s, %.1f MB/s; per pull: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", cps,
               mbps, lat.p50 / 1e3, lat.p99 / 1e3, lat.max / 1e3);
        usage_print(&u, stdout);
        if (o->json) {
            printf("{\"mode\":\"sync\",\"changes\":%ld,\"pulls\":%zu,\"limit\":%d,"
                   "\"elapsed_s\":%.3f,\"bytes\":%" PRIu64 ",\"cases_per_s\":%.1f,"
                   "\"mb_per_s\":%.2f,",
                   changes, nlat, o->limit, secs, bytes, cps, mbps);
            lat_json(&lat, stdout);
            usage_json(&u, stdout);
            printf("\"failed\":%d}\n", rc < 0);
        }
    }
    free(lat_us);
    free(cursor);
    ritra_close(c);
    return rc;
}

/* ---- command line --------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ritra-bench submit --conns N --cases M [--batch B] [--pipeline P]\n"
            "                          [--persons K] [--seed S] [--duration SECS]\n"
            "       ritra-bench get --ids FILE --conns N --cases M [--pipeline P]\n"
            "                       [--seed S] [--duration SECS]\n"
            "       ritra-bench sync [--cases M] [--limit L]\n"
            "common: [--addr HOST:PORT] [--ca F] [--cert F] [--key F] [--prefix REF]\n"
            "        [--server-pid PID] [--pg-pid POSTMASTER_PID] [--json]\n"
            "\n"
            "  --pipeline P  requests in flight per connection (1..%d, default 1)\n"
            "  --batch B     SubmitCases of B cases (1..%d) instead of SubmitCase\n"
            "  --persons K   exactly K persons per case (default: 1 victim, 1-2\n"
            "                suspects, a witness in 30%% of cases)\n"
            "  --duration S  stop sending after S seconds even if cases remain\n"
            "  --prefix REF  external_ref prefix (default: bench-<time>-<pid>);\n"
            "                refs are REF-<conn>-<n>, so a new prefix means new cases\n"
            "  get --ids FILE  M GetCase requests in all, each of a case drawn\n"
            "                from FILE (one case_id per line, the agency's own)\n"
            "  sync --cases M  first load M new cases (with --conns/--batch,\n"
            "                default 4 connections, batches of 50), then pull\n"
            "defaults for --addr/--ca/--cert/--key: $RITRA_ADDR, $RITRA_CA,\n"
            "$RITRA_CERT, $RITRA_KEY (as printed by tools/dev start).\n"
            "Exit: 0 all OK, 1 some answer was not OK, 2 usage or connection error.\n",
            MAX_PIPELINE, MAX_BATCH);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Reads the get mode's case ids, one per line. 0, or -1 with a message. */
static int load_ids(struct opts *o)
{
    FILE *f = fopen(o->ids_file, "r");
    char line[128];
    size_t cap = 0;

    if (f == NULL) {
        fprintf(stderr, "ritra-bench: %s: %s\n", o->ids_file, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (o->nids == cap) {
            cap = cap ? cap * 2 : 1024;
            o->ids = realloc(o->ids, cap * sizeof(*o->ids));
            if (o->ids == NULL)
                abort();
        }
        if ((o->ids[o->nids++] = strdup(line)) == NULL)
            abort();
    }
    fclose(f);
    if (o->nids == 0) {
        fprintf(stderr, "ritra-bench: %s: no case ids\n", o->ids_file);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"ca", required_argument, NULL, 'C'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"conns", required_argument, NULL, 'n'},
        {"cases", required_argument, NULL, 'm'},
        {"batch", required_argument, NULL, 'b'},
        {"pipeline", required_argument, NULL, 'p'},
        {"persons", required_argument, NULL, 'P'},
        {"seed", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'},
        {"prefix", required_argument, NULL, 'x'},
        {"limit", required_argument, NULL, 'l'},
        {"server-pid", required_argument, NULL, 'S'},
        {"pg-pid", required_argument, NULL, 'G'},
        {"json", no_argument, NULL, 'j'},
        {"ids", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, li = 0;
    long v;
    char *end;

    while ((ch = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        int bad = 0;

        switch (ch) {
        case 'a':
            o->addr = optarg;
            break;
        case 'C':
            o->ca = optarg;
            break;
        case 'c':
            o->cert = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'x':
            o->prefix = optarg;
            break;
        case 'I':
            o->ids_file = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'n':
            bad = parse_long(optarg, 1, MAX_CONNS, &v);
            o->conns = (int)v;
            break;
        case 'm':
            bad = parse_long(optarg, 0, 100000000, &v);
            o->cases = v;
            break;
        case 'b':
            bad = parse_long(optarg, 1, MAX_BATCH, &v);
            o->batch = (int)v;
            break;
        case 'p':
            bad = parse_long(optarg, 1, MAX_PIPELINE, &v);
            o->pipeline = (int)v;
            break;
        case 'P':
            bad = parse_long(optarg, 1, 200, &v);
            o->persons = (int)v;
            break;
        case 'l':
            bad = parse_long(optarg, 1, 1000, &v);
            o->limit = (int)v;
            break;
        case 'S':
            bad = parse_long(optarg, 1, 1L << 30, &v);
            o->server_pid = (int)v;
            break;
        case 'G':
            bad = parse_long(optarg, 1, 1L << 30, &v);
            o->pg_pid = (int)v;
            break;
        case 's':
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            bad = errno != 0 || *end != '\0';
            break;
        case 'd':
            o->duration = strtod(optarg, &end);
            bad = *end != '\0' || !(o->duration > 0);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "ritra-bench: bad value for --%s: %s\n", longopts[li].name, optarg);
            return -1;
        }
    }
    if (o->addr == NULL || o->ca == NULL || o->cert == NULL) {
        fprintf(stderr, "ritra-bench: --addr, --ca and --cert (or RITRA_ADDR, RITRA_CA, "
                        "RITRA_CERT) are required\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char prefix[64];
    struct opts o = {.conns = 0, .pipeline = 1, .limit = 1000, .seed = 1};
    const char *mode = argc > 1 ? argv[1] : "";
    struct run_result res;
    int rc;

    if (strcmp(mode, "-h") == 0 || strcmp(mode, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(mode, "submit") != 0 && strcmp(mode, "get") != 0 && strcmp(mode, "sync") != 0) {
        usage(stderr);
        return 2;
    }
    o.addr = getenv("RITRA_ADDR");
    o.ca = getenv("RITRA_CA");
    o.cert = getenv("RITRA_CERT");
    o.key = getenv("RITRA_KEY");
    snprintf(prefix, sizeof(prefix), "bench-%lld-%d", (long long)time(NULL), (int)getpid());
    o.prefix = prefix;
    if (parse_args(argc - 1, argv + 1, &o) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN); /* a closed connection is an error return, not a signal */

    if (strcmp(mode, "sync") == 0) {
        if (o.cases > 0) {
            struct opts load = o;

            load.conns = o.conns ? o.conns : 4;
            load.batch = o.batch ? o.batch : 50;
            load.json = 0;
            if (run_submit(&load, &res, 0) < 0)
                return 2;
            printf("sync: loaded %ld new cases first (%.1f cases/s)\n", res.cases_ok,
                   res.elapsed_s > 0 ? res.cases_ok / res.elapsed_s : 0);
            if (res.non_ok > 0)
                return 1;
        }
        return run_sync(&o) < 0 ? 2 : 0;
    }
    if (o.conns == 0 || o.cases == 0) {
        fprintf(stderr, "ritra-bench: %s needs --conns and --cases\n", mode);
        return 2;
    }
    if (strcmp(mode, "get") == 0) {
        if (o.ids_file == NULL || o.batch > 0) {
            fprintf(stderr, "ritra-bench: get needs --ids and takes no --batch\n");
            return 2;
        }
        if (load_ids(&o) < 0)
            return 2;
    }
    if (o.cases < o.conns) {
        fprintf(stderr, "ritra-bench: --cases must be at least --conns\n");
        return 2;
    }
    rc = run_submit(&o, &res, 0);
    print_submit(&o, &res);
    if (rc < 0)
        return 2;
    return res.non_ok > 0 ? 1 : 0;
}
