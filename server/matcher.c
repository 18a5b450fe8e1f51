/*
 * One round of the matcher is three transactions, each answered on the
 * event loop:
 *
 *   claim       the oldest queued persons, with their case's record;
 *   candidates  the records sharing a blocking key with each of them, and
 *               the pairs a reviewer rejected;
 *   apply       the decisions (ritra_match_apply), under the matching lock.
 *
 * Between candidates and apply the server prepares the candidates' records
 * and decides each subject on the event loop, in slices of ~2 ms (on_step)
 * so that requests are not held behind a batch's scoring.
 *
 * Between claim and apply nothing is locked: apply re-checks that the
 * identities each decision relied on are unchanged and fails the batch
 * with a serialization error otherwise, and the round starts again. A
 * batch that matched anything schedules the next round at once; an empty
 * queue waits for the timer or a kick.
 */
#include "matcher.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "jsonw.h"
#include "log.h"
#include "match_view.h"
#include "pgtext.h"

#define FREQ_RELOAD_S 600 /* other servers' matchers count names too */
#define EXPLAIN_MAX   512

struct subject {
    char person_id[37];
    char seq[24];
    char case_id[37];
    char owner[16];
    char identity[37]; /* the current identity of a changed record, or "" */
    const Ritra__Person *person;
    char *pb_hex;
    struct mview_record mr;
    char (*keys)[SCORE_KEY_MAX];
    size_t n_keys;
    size_t first_cand, n_cand; /* its rows in the batch's candidates */
    bool drop;                 /* unreadable: leaves the queue unlinked */
    /* The decision. */
    char decided[37];
    const char *linked_by;
    double score;
};

struct candidate {
    char person_id[37];
    char identity[37];
    /* The row holding this person's record: itself, or an earlier row
     * for the same person (a common name's records are candidates of many
     * subjects of a batch; each is decoded and prepared once: profiled,
     * preparing was half of the matcher's own time). */
    struct candidate *src;
    unsigned char *pb; /* the record until prepared (PQunescapeBytea) */
    size_t pb_len;
    struct mview_record mr;
    bool ok;
};

struct batch {
    struct subject *subj;
    size_t n;
    Ritra__Case **cases; /* unpacked records, one per row at most */
    char (*case_ids)[37];
    size_t n_cases;
    struct candidate *cand;
    size_t n_cand;
    char (*rejected)[2][37];
    size_t n_rejected;
    /* Work done on the event loop in slices (see on_step()). */
    size_t prepared, decided;
    struct jsonw w;
    bool w_open;
};

struct matcher {
    struct db_pool *db;
    const struct config *cfg;
    struct score_config scfg;
    struct score_freq *freq;
    time_t freq_loaded_at;
    struct event *timer;
    struct event *now;
    bool running;
    bool again; /* kicked while running */
    struct batch *b;
    unsigned retries;
    struct timespec started; /* this round's claim */
    struct event *step;      /* the next slice of a batch's work */
};

static void round_start(struct matcher *m);

static void batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        mview_record_clear(&b->subj[i].mr);
        free(b->subj[i].pb_hex);
        free(b->subj[i].keys);
    }
    for (size_t i = 0; i < b->n_cases; i++)
        ritra__case__free_unpacked(b->cases[i], NULL);
    for (size_t i = 0; i < b->n_cand; i++) {
        if (b->cand[i].src == &b->cand[i])
            mview_record_clear(&b->cand[i].mr);
        if (b->cand[i].pb != NULL)
            PQfreemem(b->cand[i].pb);
    }
    if (b->w_open)
        jsonw_free(&b->w);
    free(b->subj);
    free(b->cases);
    free(b->case_ids);
    free(b->cand);
    free(b->rejected);
    free(b);
}

static void round_end(struct matcher *m, bool more)
{
    struct timeval zero = {0, 0};

    batch_free(m->b);
    m->b = NULL;
    m->running = false;
    if (more || m->again) {
        m->again = false;
        event_add(m->now, &zero);
    }
}

static void fail_round(struct matcher *m, const char *what, struct db_txn *t)
{
    log_msg(LOG_ERROR, what, t ? db_txn_error(t) : "out of memory");
    round_end(m, false);
}

static void uuid_v4(char out[37])
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        abort(); /* no randomness: nothing safe to do */
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static char *hex_of(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *h = malloc(2 * n + 1);

    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = digits[p[i] >> 4];
        h[2 * i + 1] = digits[p[i] & 15];
    }
    h[2 * n] = '\0';
    return h;
}

static const char *val(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

/* ---- apply ------------------------------------------------------------ */

static bool is_rejected(const struct batch *b, const char *x, const char *y)
{
    for (size_t i = 0; i < b->n_rejected; i++)
        if ((strcmp(b->rejected[i][0], x) == 0 && strcmp(b->rejected[i][1], y) == 0) ||
            (strcmp(b->rejected[i][0], y) == 0 && strcmp(b->rejected[i][1], x) == 0))
            return true;
    return false;
}

/* One identity among a subject's scored records. */
struct group {
    const char *identity;
    const char *best_person;
    bool best_in_batch;
    struct score_result best;
    bool held; /* a member with a rule against linking, or a rejection */
};

struct scored {
    const char *person_id;
    const char *identity;
    bool in_batch;
    struct score_result r;
};

static bool share_key(const struct subject *a, const struct subject *b)
{
    for (size_t i = 0; i < a->n_keys; i++)
        for (size_t j = 0; j < b->n_keys; j++)
            if (strcmp(a->keys[i], b->keys[j]) == 0)
                return true;
    return false;
}

static void group_add(struct group *g, size_t *ng, const struct scored *s, bool rejected)
{
    size_t i;

    for (i = 0; i < *ng; i++)
        if (strcmp(g[i].identity, s->identity) == 0)
            break;
    if (i == *ng) {
        memset(&g[i], 0, sizeof(g[i]));
        g[i].identity = s->identity;
        g[i].best.total = -1e9;
        (*ng)++;
    }
    if (rejected || s->r.caps != 0)
        g[i].held = true;
    if (!rejected && s->r.total > g[i].best.total) {
        g[i].best = s->r;
        g[i].best_person = s->person_id;
        g[i].best_in_batch = s->in_batch;
    }
}

static void write_candidate(struct jsonw *w, const struct group *g, bool held_match)
{
    char explain[EXPLAIN_MAX];

    mview_explain(&g->best, explain, sizeof(explain));
    jsonw_obj_begin(w);
    jsonw_key(w, "other");
    jsonw_str(w, g->best_person);
    jsonw_key(w, "score");
    jsonw_double(w, g->best.total);
    jsonw_key(w, "class");
    jsonw_str(w, held_match ? "MATCH" : score_class_name(g->best.cls));
    jsonw_key(w, "explanation");
    jsonw_str(w, explain);
    jsonw_key(w, "caps");
    jsonw_int(w, g->best.caps);
    jsonw_obj_end(w);
}

/* Decides subject i and writes its apply entry. */
static int decide(struct matcher *m, struct batch *b, size_t i, struct jsonw *w)
{
    struct subject *s = &b->subj[i];
    size_t cap = s->n_cand + i, ns = 0, ng = 0; /* its rows and its batch-mates */
    struct scored *sc = calloc(cap ? cap : 1, sizeof(*sc));
    struct group *g = calloc(cap ? cap : 1, sizeof(*g));
    const struct group *link = NULL;
    struct norm_tokens gt = {0}, st = {0};
    char tok[NORM_TOKEN_MAX + 3];

    if (sc == NULL || g == NULL) {
        free(sc);
        free(g);
        return -1;
    }
    for (size_t c = s->first_cand; c < s->first_cand + s->n_cand; c++) {
        struct candidate *cd = &b->cand[c];

        if (!cd->src->ok || strcmp(cd->person_id, s->person_id) == 0)
            continue;
        sc[ns].person_id = cd->person_id;
        sc[ns].identity = cd->identity;
        score_pair(&m->scfg, m->freq, s->mr.rec, cd->src->mr.rec, &sc[ns].r);
        ns++;
    }
    /* Batch-mates decided before this one are not in the database yet. */
    for (size_t j = 0; j < i; j++) {
        struct subject *o = &b->subj[j];

        if (o->drop || strcmp(o->person_id, s->person_id) == 0 || !share_key(s, o))
            continue;
        sc[ns].person_id = o->person_id;
        sc[ns].identity = o->decided;
        sc[ns].in_batch = true;
        score_pair(&m->scfg, m->freq, s->mr.rec, o->mr.rec, &sc[ns].r);
        ns++;
    }
    for (size_t k = 0; k < ns; k++)
        if (sc[k].r.cls != SCORE_NO_MATCH || sc[k].r.caps != 0)
            group_add(g, &ng, &sc[k], is_rejected(b, s->person_id, sc[k].person_id));
    if (*s->identity) {
        snprintf(s->decided, sizeof(s->decided), "%s", s->identity);
        s->linked_by = "auto"; /* unused: a changed record keeps its link */
        s->score = 0;
    } else {
        for (size_t k = 0; k < ng; k++)
            if (g[k].best_person != NULL && g[k].best.cls == SCORE_MATCH && !g[k].held &&
                (link == NULL || g[k].best.total > link->best.total))
                link = &g[k];
        if (link != NULL) {
            snprintf(s->decided, sizeof(s->decided), "%s", link->identity);
            s->linked_by = "auto";
            s->score = link->best.total;
        } else {
            uuid_v4(s->decided);
            s->linked_by = "new";
            s->score = 0;
        }
    }
    jsonw_obj_begin(w);
    jsonw_key(w, "person_id");
    jsonw_str(w, s->person_id);
    jsonw_key(w, "seq");
    jsonw_str(w, s->seq);
    jsonw_key(w, "case_id");
    jsonw_str(w, s->case_id);
    jsonw_key(w, "owner");
    jsonw_str(w, s->owner);
    jsonw_key(w, "role");
    jsonw_str(w, s->person->role);
    jsonw_key(w, "identity_id");
    jsonw_str(w, s->decided);
    jsonw_key(w, "linked_by");
    jsonw_str(w, s->linked_by);
    jsonw_key(w, "score");
    if (link != NULL)
        jsonw_double(w, s->score);
    else
        jsonw_null(w);
    jsonw_key(w, "pb");
    jsonw_str(w, s->pb_hex);
    jsonw_key(w, "keys");
    jsonw_arr_begin(w);
    for (size_t k = 0; k < s->n_keys; k++)
        jsonw_str(w, s->keys[k]);
    jsonw_arr_end(w);
    jsonw_key(w, "tokens");
    jsonw_arr_begin(w);
    norm_name_tokens(s->mr.mp.person.given, NORM_GIVEN, &gt);
    norm_name_tokens(s->mr.mp.person.middle, NORM_GIVEN, &gt);
    norm_name_tokens(s->mr.mp.person.first_surname, NORM_SURNAME, &st);
    norm_name_tokens(s->mr.mp.person.second_surname, NORM_SURNAME, &st);
    for (size_t k = 0; k < gt.n; k++) {
        snprintf(tok, sizeof(tok), "g:%s", gt.tok[k]);
        jsonw_str(w, tok);
    }
    for (size_t k = 0; k < st.n; k++) {
        snprintf(tok, sizeof(tok), "s:%s", st.tok[k]);
        jsonw_str(w, tok);
    }
    jsonw_arr_end(w);
    jsonw_key(w, "expect");
    jsonw_arr_begin(w);
    if (link != NULL && !link->best_in_batch) {
        jsonw_obj_begin(w);
        jsonw_key(w, "p");
        jsonw_str(w, link->best_person);
        jsonw_key(w, "i");
        jsonw_str(w, link->identity);
        jsonw_obj_end(w);
    }
    if (*s->identity) { /* a reviewer may have moved it meanwhile */
        jsonw_obj_begin(w);
        jsonw_key(w, "p");
        jsonw_str(w, s->person_id);
        jsonw_key(w, "i");
        jsonw_str(w, s->identity);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_key(w, "candidates");
    jsonw_arr_begin(w);
    for (size_t k = 0; k < ng; k++) {
        if (&g[k] == link || g[k].best_person == NULL || strcmp(g[k].identity, s->decided) == 0)
            continue;
        if (g[k].best.cls == SCORE_NO_MATCH && g[k].best.total < m->scfg.possible_threshold)
            continue;
        write_candidate(w, &g[k], g[k].best.cls == SCORE_MATCH);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
    free(sc);
    free(g);
    return 0;
}

/* One line per applied batch: what matching costs, measured where it runs
 * (tools/bench/match-speed reads these). */
static void log_batch(const struct matcher *m, const struct batch *b)
{
    struct timespec now;
    struct logline l;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (double)(now.tv_sec - m->started.tv_sec) * 1e3 +
         (double)(now.tv_nsec - m->started.tv_nsec) / 1e6;
    log_begin(&l, LOG_INFO, "matcher_batch");
    log_i64(&l, "persons", (int64_t)b->n);
    log_i64(&l, "candidates", (int64_t)b->n_cand);
    log_i64(&l, "us", (int64_t)(ms * 1000));
    log_end(&l);
}

static void applied(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct matcher *m = arg;
    struct batch *b = m->b;
    /* Look again at once: the claim limits queue rows, and a person with a
     * document is queued twice, so a batch short of match_batch persons
     * does not mean the queue is empty. An empty claim ends the burst. */
    bool more = b->n > 0;

    if (db == DB_RETRY && m->retries < 5) {
        m->retries++;
        log_msg(LOG_INFO, "matcher_retry", db_txn_error(t));
        round_end(m, true);
        return;
    }
    if (db != DB_OK) {
        fail_round(m, "matcher_apply_failed", t);
        return;
    }
    m->retries = 0;
    log_batch(m, b);
    for (size_t i = 0; i < b->n; i++)
        if (!b->subj[i].drop && !*b->subj[i].identity && m->freq != NULL)
            score_freq_add_person(m->freq, &b->subj[i].mr.mp.person);
    round_end(m, more);
}

/* Writes subject i's entry of the apply document; 0 or -1. */
static int decide_one(struct matcher *m, struct batch *b, size_t i)
{
    if (!b->subj[i].drop)
        return decide(m, b, i, &b->w);
    jsonw_obj_begin(&b->w);
    jsonw_key(&b->w, "person_id");
    jsonw_str(&b->w, b->subj[i].person_id);
    jsonw_key(&b->w, "seq");
    jsonw_str(&b->w, b->subj[i].seq);
    jsonw_key(&b->w, "drop");
    jsonw_bool(&b->w, true);
    jsonw_obj_end(&b->w);
    return 0;
}

static void apply(struct matcher *m)
{
    static const char begin_sql[] = "SELECT ritra_match_begin()";
    static const char sql[] = "SELECT ritra_match_apply($1::jsonb)";
    struct batch *b = m->b;
    struct db_txn *t;
    const char *json;

    jsonw_arr_end(&b->w);
    json = jsonw_finish(&b->w);
    t = db_txn_new();
    if (json == NULL || db_txn_add(t, begin_sql, 0, NULL) < 0 || db_txn_add(t, sql, 1, &json) < 0) {
        db_txn_free(t);
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    jsonw_free(&b->w);
    b->w_open = false;
    db_submit(m->db, t, applied, m);
}

/* Preparing a batch's candidates and deciding its subjects is CPU work of
 * up to a few hundred milliseconds (thousands of candidates for common
 * names); done in one go it held every connection's requests behind it
 * (SubmitCase p99 in the hundreds of ms while p50 was ~12 ms). So it runs
 * in slices of about STEP_BUDGET_NS, going back to the event loop between
 * them. */
#define STEP_BUDGET_NS 2000000L

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000000000L + (now.tv_nsec - t0->tv_nsec);
}

static void prepare_candidate(struct candidate *c)
{
    if (c->src != c)
        return;
    c->ok = c->pb != NULL && mview_record_init(&c->mr, c->pb, c->pb_len) == 0;
    if (!c->ok)
        log_msg(LOG_ERROR, "matcher_record_corrupt", c->person_id);
    if (c->pb != NULL)
        PQfreemem(c->pb);
    c->pb = NULL;
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
    struct matcher *m = arg;
    struct batch *b = m->b;
    struct timeval zero = {0, 0};
    struct timespec t0;

    (void)fd;
    (void)what;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (b->prepared < b->n_cand) {
            prepare_candidate(&b->cand[b->prepared++]);
        } else if (b->decided < b->n) {
            if (decide_one(m, b, b->decided++) < 0) {
                fail_round(m, "matcher_out_of_memory", NULL);
                return;
            }
        } else {
            apply(m);
            return;
        }
    } while (elapsed_ns(&t0) < STEP_BUDGET_NS);
    event_add(m->step, &zero);
}

/* ---- candidates ------------------------------------------------------- */

/* The candidate rows already read, by person id: open addressing over
 * indexes into the batch's candidates (0 = empty, else index + 1). */
struct seen {
    size_t *slot;
    size_t mask;
};

static uint32_t id_hash(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int seen_init(struct seen *t, size_t n)
{
    size_t cap = 16;

    while (cap < 2 * n)
        cap *= 2;
    t->mask = cap - 1;
    t->slot = calloc(cap, sizeof(*t->slot));
    return t->slot == NULL ? -1 : 0;
}

static struct candidate *seen_find(const struct seen *t, struct candidate *c, const char *id)
{
    for (size_t i = id_hash(id) & t->mask; t->slot[i] != 0; i = (i + 1) & t->mask)
        if (strcmp(c[t->slot[i] - 1].person_id, id) == 0)
            return &c[t->slot[i] - 1];
    return NULL;
}

static void seen_add(struct seen *t, const struct candidate *c, size_t k)
{
    size_t i = id_hash(c[k].person_id) & t->mask;

    while (t->slot[i] != 0)
        i = (i + 1) & t->mask;
    t->slot[i] = k + 1;
}

static void got_candidates(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct matcher *m = arg;
    struct batch *b = m->b;
    const PGresult *cr = db_txn_result(t, 1), *rr = db_txn_result(t, 2);
    struct seen seen = {NULL, 0};
    int nc, nr;

    if (db != DB_OK || cr == NULL || rr == NULL) {
        fail_round(m, "matcher_candidates_failed", t);
        return;
    }
    nc = PQntuples(cr);
    nr = PQntuples(rr);
    b->cand = calloc(nc ? (size_t)nc : 1, sizeof(*b->cand));
    b->rejected = calloc(nr ? (size_t)nr : 1, sizeof(*b->rejected));
    if (b->cand == NULL || b->rejected == NULL) {
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    if (seen_init(&seen, (size_t)nc) < 0) {
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    for (int i = 0, prev = -1; i < nc; i++) {
        struct candidate *c = &b->cand[b->n_cand++];
        long idx = strtol(val(cr, i, 0), NULL, 10);

        /* The query orders rows by subject: each subject's are one run. */
        if (idx < prev || idx < 0 || (size_t)idx >= b->n) {
            free(seen.slot);
            log_msg(LOG_ERROR, "matcher_candidates_unordered", val(cr, i, 0));
            round_end(m, false);
            return;
        }
        if (idx != prev)
            b->subj[idx].first_cand = b->n_cand - 1;
        b->subj[idx].n_cand++;
        prev = (int)idx;
        snprintf(c->person_id, sizeof(c->person_id), "%s", val(cr, i, 1));
        snprintf(c->identity, sizeof(c->identity), "%s", val(cr, i, 2));
        c->src = seen_find(&seen, b->cand, c->person_id);
        if (c->src != NULL)
            continue;
        c->src = c;
        c->pb = PQunescapeBytea((const unsigned char *)val(cr, i, 3), &c->pb_len);
        seen_add(&seen, b->cand, b->n_cand - 1);
    }
    free(seen.slot);
    for (int i = 0; i < nr; i++) {
        snprintf(b->rejected[i][0], 37, "%s", val(rr, i, 0));
        snprintf(b->rejected[i][1], 37, "%s", val(rr, i, 1));
    }
    b->n_rejected = (size_t)nr;
    jsonw_init(&b->w);
    b->w_open = true;
    jsonw_arr_begin(&b->w);
    on_step(-1, 0, m);
}

/* Text literals for the candidate query: {0,0,1,...} and the keys. */
static int fetch_candidates(struct matcher *m)
{
    static const char begin_sql[] = "SELECT ritra_match_begin()";
    static const char cand_sql[] =
        "SELECT idx, person_id, identity_id, person_pb"
        " FROM ritra_match_candidates($1::integer[], $2::text[], $3::integer)";
    static const char rej_sql[] = "SELECT person_a, person_b FROM ritra_match_rejected($1::uuid[])";
    struct batch *b = m->b;
    size_t total = 0, k = 0;
    char **keys = NULL, **ids = NULL, *keys_lit = NULL, *ids_lit = NULL, *idx_lit = NULL, cap[16];
    size_t idx_len = 0;
    int rc = -1;
    struct db_txn *t = NULL;
    const char *v[3];

    for (size_t i = 0; i < b->n; i++)
        total += b->subj[i].n_keys;
    keys = calloc(total ? total : 1, sizeof(*keys));
    ids = calloc(b->n ? b->n : 1, sizeof(*ids));
    idx_lit = malloc(total * 12 + 3);
    if (keys == NULL || ids == NULL || idx_lit == NULL)
        goto out;
    idx_lit[idx_len++] = '{';
    for (size_t i = 0; i < b->n; i++) {
        ids[i] = b->subj[i].person_id;
        for (size_t j = 0; j < b->subj[i].n_keys; j++) {
            keys[k++] = b->subj[i].keys[j];
            idx_len += (size_t)snprintf(idx_lit + idx_len, 12, "%s%zu", idx_len > 1 ? "," : "", i);
        }
    }
    idx_lit[idx_len++] = '}';
    idx_lit[idx_len] = '\0';
    keys_lit = pgtext_array(keys, total);
    ids_lit = pgtext_array(ids, b->n);
    if (keys_lit == NULL || ids_lit == NULL)
        goto out;
    snprintf(cap, sizeof(cap), "%d", m->cfg->match_block_cap);
    v[0] = idx_lit;
    v[1] = keys_lit;
    v[2] = cap;
    t = db_txn_new();
    if (db_txn_add(t, begin_sql, 0, NULL) < 0 || db_txn_add(t, cand_sql, 3, v) < 0 ||
        db_txn_add(t, rej_sql, 1, (const char *const *)&ids_lit) < 0) {
        db_txn_free(t);
        goto out;
    }
    db_submit(m->db, t, got_candidates, m);
    rc = 0;
out:
    free(keys);
    free(ids);
    free(keys_lit);
    free(ids_lit);
    free(idx_lit);
    return rc;
}

/* ---- claim ------------------------------------------------------------ */

/* The case record of a row, unpacked once per batch. */
static Ritra__Case *case_of(struct batch *b, const char *case_id, const PGresult *res, int row)
{
    size_t len = 0;
    unsigned char *raw;
    Ritra__Case *c;

    for (size_t k = 0; k < b->n_cases; k++)
        if (strcmp(b->case_ids[k], case_id) == 0)
            return b->cases[k];
    raw = PQunescapeBytea((const unsigned char *)val(res, row, 5), &len);
    if (raw == NULL)
        return NULL;
    c = ritra__case__unpack(NULL, len, raw);
    PQfreemem(raw);
    if (c != NULL) {
        snprintf(b->case_ids[b->n_cases], sizeof(b->case_ids[0]), "%s", case_id);
        b->cases[b->n_cases++] = c;
    }
    return c;
}

static int prepare_subject(struct batch *b, struct subject *s, const PGresult *res, int row)
{
    const char *ref = val(res, row, 4);
    Ritra__Case *c = case_of(b, s->case_id, res, row);
    uint8_t *pb;
    size_t len;

    if (c == NULL)
        return 1;
    for (size_t p = 0; p < c->n_persons && s->person == NULL; p++)
        if (strcmp(c->persons[p]->person_ref, ref) == 0)
            s->person = c->persons[p];
    if (s->person == NULL)
        return 1;
    len = ritra__person__get_packed_size(s->person);
    pb = malloc(len ? len : 1);
    if (pb == NULL)
        return -1;
    ritra__person__pack(s->person, pb);
    s->pb_hex = hex_of(pb, len);
    free(pb);
    s->keys = calloc(SCORE_MAX_KEYS, sizeof(*s->keys));
    if (s->pb_hex == NULL || s->keys == NULL || mview_record_init_person(&s->mr, s->person) < 0)
        return -1;
    s->n_keys = score_blocking_keys(&s->mr.mp.person, s->keys, SCORE_MAX_KEYS);
    return 0;
}

static void claimed(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct matcher *m = arg;
    const PGresult *res = db_txn_result(t, 1);
    struct batch *b;
    int n;

    if (db != DB_OK || res == NULL) {
        fail_round(m, "matcher_claim_failed", t);
        return;
    }
    n = PQntuples(res);
    if (n == 0) {
        round_end(m, false);
        return;
    }
    b = m->b = calloc(1, sizeof(*b));
    if (b == NULL || (b->subj = calloc((size_t)n, sizeof(*b->subj))) == NULL ||
        (b->cases = calloc((size_t)n, sizeof(*b->cases))) == NULL ||
        (b->case_ids = calloc((size_t)n, sizeof(*b->case_ids))) == NULL) {
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    for (int i = 0; i < n; i++) {
        struct subject *s = &b->subj[b->n++];
        int rc;

        snprintf(s->person_id, sizeof(s->person_id), "%s", val(res, i, 0));
        snprintf(s->seq, sizeof(s->seq), "%s", val(res, i, 1));
        snprintf(s->case_id, sizeof(s->case_id), "%s", val(res, i, 2));
        snprintf(s->owner, sizeof(s->owner), "%s", val(res, i, 3));
        snprintf(s->identity, sizeof(s->identity), "%s", val(res, i, 6));
        rc = prepare_subject(b, s, res, i);
        if (rc < 0) {
            fail_round(m, "matcher_out_of_memory", NULL);
            return;
        }
        if (rc > 0) {
            log_msg(LOG_ERROR, "matcher_record_unreadable", s->person_id);
            s->drop = true;
        }
    }
    if (fetch_candidates(m) < 0)
        fail_round(m, "matcher_out_of_memory", NULL);
}

static void claim(struct matcher *m)
{
    static const char begin_sql[] = "SELECT ritra_match_begin()";
    static const char sql[] =
        "SELECT person_id, seq, case_id, owner_agency_id, person_ref, record, identity_id"
        " FROM ritra_match_claim($1::integer)";
    struct db_txn *t = db_txn_new();
    char limit[16];
    const char *v = limit;

    clock_gettime(CLOCK_MONOTONIC, &m->started);
    snprintf(limit, sizeof(limit), "%d", m->cfg->match_batch);
    if (db_txn_add(t, begin_sql, 0, NULL) < 0 || db_txn_add(t, sql, 1, &v) < 0) {
        db_txn_free(t);
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    db_submit(m->db, t, claimed, m);
}

/* ---- name frequencies ------------------------------------------------- */

static void got_freq(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct matcher *m = arg;
    const PGresult *res = db_txn_result(t, 1);
    struct score_freq *f;

    if (db != DB_OK || res == NULL) {
        fail_round(m, "matcher_freq_failed", t);
        return;
    }
    f = score_freq_new();
    if (f == NULL) {
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = val(res, i, 0);
        unsigned long count = strtoul(val(res, i, 2), NULL, 10);

        if (strcmp(kind, "p") == 0)
            score_freq_set_population(f, count);
        else if (score_freq_add_name(f, *kind == 'g' ? SCORE_KIND_GIVEN : SCORE_KIND_SURNAME,
                                     val(res, i, 1), count) < 0) {
            score_freq_free(f);
            fail_round(m, "matcher_out_of_memory", NULL);
            return;
        }
    }
    score_freq_free(m->freq);
    m->freq = f;
    m->freq_loaded_at = time(NULL);
    claim(m);
}

static void load_freq(struct matcher *m)
{
    static const char begin_sql[] = "SELECT ritra_match_begin()";
    static const char sql[] = "SELECT kind, token, persons FROM ritra_match_name_freq()";
    struct db_txn *t = db_txn_new();

    if (db_txn_add(t, begin_sql, 0, NULL) < 0 || db_txn_add(t, sql, 0, NULL) < 0) {
        db_txn_free(t);
        fail_round(m, "matcher_out_of_memory", NULL);
        return;
    }
    db_submit(m->db, t, got_freq, m);
}

static void round_start(struct matcher *m)
{
    if (m->running) {
        m->again = true;
        return;
    }
    if (db_pool_up(m->db) == 0)
        return;
    m->running = true;
    if (m->freq == NULL || time(NULL) - m->freq_loaded_at > FREQ_RELOAD_S)
        load_freq(m);
    else
        claim(m);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    round_start(arg);
}

struct matcher *matcher_new(struct db_pool *db, const struct config *cfg)
{
    struct matcher *m = calloc(1, sizeof(*m));
    struct timeval every = {cfg->match_interval_ms / 1000, (cfg->match_interval_ms % 1000) * 1000};

    if (m == NULL)
        abort();
    m->db = db;
    m->cfg = cfg;
    score_config_default(&m->scfg);
    m->scfg.match_threshold = cfg->match_threshold;
    m->scfg.possible_threshold = cfg->match_possible_threshold;
    m->timer = event_new(db_pool_base(db), -1, EV_PERSIST, on_timer, m);
    m->now = evtimer_new(db_pool_base(db), on_timer, m);
    m->step = evtimer_new(db_pool_base(db), on_step, m);
    if (m->timer == NULL || m->now == NULL || m->step == NULL || event_add(m->timer, &every) < 0)
        abort();
    return m;
}

void matcher_free(struct matcher *m)
{
    if (m == NULL)
        return;
    if (m->timer)
        event_free(m->timer);
    if (m->now)
        event_free(m->now);
    if (m->step)
        event_free(m->step);
    batch_free(m->b);
    score_freq_free(m->freq);
    free(m);
}

void matcher_kick(struct matcher *m)
{
    struct timeval zero = {0, 0};

    if (m != NULL)
        event_add(m->now, &zero);
}

const struct score_config *matcher_score_config(const struct matcher *m)
{
    return &m->scfg;
}

const struct score_freq *matcher_freq(const struct matcher *m)
{
    return m->freq;
}
