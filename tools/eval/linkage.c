/*
 * ritra-linkage-eval: offline quality of the person matcher (server/match).
 *
 * Reads the FEBRL datasets and a generated Colombian dataset, runs blocking,
 * scoring and clustering (transitive MATCH links; POSSIBLE pairs go to the
 * review queue) and prints pairwise precision, recall and F1 for automatic
 * links and for automatic links plus review, with blocking figures and
 * timings. It calls the match module directly: no server, no database.
 */
#include "colgen.h"
#include "febrl.h"
#include "pairs.h"
#include "score.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HIST_BINS 20

struct opts {
    const char *febrl_dir;
    const char *write_col;
    bool no_doc, no_addr, febrl, col, hist, estimate;
    size_t col_base, max_block;
    uint64_t seed;
    int show, show_unblocked, show_review;
    unsigned ignore_caps; /* diagnostic: rules whose cap is ignored */
    struct score_config cfg;
};

struct rec {
    const struct eval_person *e;
    struct match_person p;
    struct match_document doc;
    struct match_address addr;
    const char *cit[1], *phone[1];
    struct cmp_record *cr;
};

/* One dataset's evaluation. */
struct run {
    const char *name;
    const struct eval_person *e;
    size_t n;
    const struct opts *o;
    struct rec *r;
    const struct match_person **pp;
    struct score_freq *freq;
    struct pair *c;
    struct pairs_blocking blk;
    uint32_t *parent, *next; /* clusters: union-find, members in circular lists */
    double t_prepare, t_score;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool same(const struct run *x, uint32_t a, uint32_t b)
{
    return x->e[a].entity == x->e[b].entity;
}

static int prepare(struct run *x)
{
    double t0 = now();

    x->r = calloc(x->n, sizeof(*x->r));
    x->pp = calloc(x->n, sizeof(*x->pp));
    x->parent = calloc(x->n, sizeof(*x->parent));
    x->next = calloc(x->n, sizeof(*x->next));
    x->freq = score_freq_new();
    if (!x->r || !x->pp || !x->parent || !x->next || !x->freq)
        return -1;
    for (size_t i = 0; i < x->n; i++) {
        const struct eval_person *p = &x->e[i];
        struct rec *r = &x->r[i];

        r->e = p;
        r->p.given = p->given;
        r->p.middle = p->middle;
        r->p.first_surname = p->surname1;
        r->p.second_surname = p->surname2;
        r->p.sex = p->sex;
        r->p.birthdate = p->birthdate;
        r->cit[0] = p->citizenship;
        r->p.citizenship = r->cit;
        r->p.n_citizenship = p->citizenship[0] ? 1 : 0;
        r->phone[0] = p->phone;
        r->p.phones = r->phone;
        r->p.n_phones = p->phone[0] ? 1 : 0;
        r->doc = (struct match_document){p->doc_type, p->doc_number, p->doc_country};
        r->p.documents = &r->doc;
        r->p.n_documents = p->doc_number[0] && !x->o->no_doc ? 1 : 0;
        r->addr = (struct match_address){p->street, p->city, NULL, p->postcode, p->addr_country};
        r->p.addresses = &r->addr;
        r->p.n_addresses = x->o->no_addr ? 0 : 1;
        x->pp[i] = &r->p;
        x->parent[i] = x->next[i] = (uint32_t)i;
        /* the frequency table is the dataset itself, as the server's is its registry */
        if ((r->cr = cmp_record_new(&r->p)) == NULL || score_freq_add_person(x->freq, &r->p) < 0)
            return -1;
    }
    x->t_prepare = now() - t0;
    return 0;
}

static int block_and_score(struct run *x)
{
    const struct opts *o = x->o;
    double t0;

    x->c = pairs_candidates(x->pp, x->n, o->max_block, &x->blk);
    if (x->c == NULL && x->blk.candidates > 0)
        return -1;
    t0 = now();
    for (size_t i = 0; i < x->blk.candidates; i++) {
        struct pair *c = &x->c[i];
        struct score_result sr;

        score_pair(&o->cfg, x->freq, x->r[c->a].cr, x->r[c->b].cr, &sr);
        c->weight = (float)sr.total;
        c->cls = (unsigned char)sr.cls;
        c->caps = (unsigned char)sr.caps;
        /* diagnostic: what the weights would decide without some rules */
        if (o->ignore_caps && sr.cls == SCORE_POSSIBLE_MATCH &&
            sr.total >= o->cfg.match_threshold && (sr.caps & ~o->ignore_caps) == 0)
            c->cls = SCORE_MATCH;
    }
    x->t_score = now() - t0;
    return 0;
}

static uint32_t find(struct run *x, uint32_t i)
{
    while (x->parent[i] != i) {
        x->parent[i] = x->parent[x->parent[i]];
        i = x->parent[i];
    }
    return i;
}

/* Links the clusters of a and b unless a member of one conflicts with a
 * member of the other: transitivity must not link what a rule forbids. */
static bool link(struct run *x, uint32_t a, uint32_t b)
{
    uint32_t ra = find(x, a), rb = find(x, b), i = a, j, t;

    if (ra == rb)
        return true;
    do {
        j = b;
        do {
            struct score_result sr;

            score_pair(&x->o->cfg, x->freq, x->r[i].cr, x->r[j].cr, &sr);
            if (sr.caps & ~x->o->ignore_caps)
                return false;
            j = x->next[j];
        } while (j != b);
        i = x->next[i];
    } while (i != a);
    x->parent[rb] = ra;
    t = x->next[a];
    x->next[a] = x->next[b];
    x->next[b] = t;
    return true;
}

static int by_weight_desc(const void *p, const void *q)
{
    const struct pair *a = p, *b = q;

    return a->weight < b->weight ? 1 : a->weight > b->weight ? -1 : 0;
}

/* Strongest links first, so that a weak link cannot pre-empt a conflict
 * check; a refused link goes to the review queue. */
static void cluster(struct run *x)
{
    qsort(x->c, x->blk.candidates, sizeof(*x->c), by_weight_desc);
    for (size_t i = 0; i < x->blk.candidates; i++)
        if (x->c[i].cls == SCORE_MATCH && !link(x, x->c[i].a, x->c[i].b))
            x->c[i].cls = SCORE_POSSIBLE_MATCH;
}

static void rates(const char *label, uint64_t tp, uint64_t pred, uint64_t truth)
{
    double p = pred ? (double)tp / pred : 1.0, r = truth ? (double)tp / truth : 1.0;

    printf("  %-10s precision %.4f  recall %.4f  F1 %.4f  (TP %llu FP %llu FN %llu)\n", label, p, r,
           p + r > 0 ? 2 * p * r / (p + r) : 0.0, (unsigned long long)tp,
           (unsigned long long)(pred - tp), (unsigned long long)(truth - tp));
}

/*
 * The rule "two different numbers of the same document type and country
 * prevent an automatic link" keeps such pairs in different identities
 * whatever else agrees, so the true pairs that carry it bound automatic
 * recall (and F1 at precision 1) for any clustering that obeys the rule.
 */
struct by_entity {
    long entity;
    uint32_t rec;
};

static int entity_order(const void *p, const void *q)
{
    const struct by_entity *a = p, *b = q;

    return a->entity < b->entity ? -1 : a->entity > b->entity;
}

static void print_document_bound(const struct run *x, uint64_t truth)
{
    struct by_entity *e;
    uint64_t conflicts = 0;
    double r, f;

    if (x->o->no_doc || truth == 0 || (x->o->ignore_caps & SCORE_CAP_DOCUMENT))
        return;
    /* The true pairs are the pairs within each entity's run of records. */
    e = malloc(x->n * sizeof(*e));
    if (e == NULL)
        return;
    for (size_t i = 0; i < x->n; i++)
        e[i] = (struct by_entity){x->e[i].entity, (uint32_t)i};
    qsort(e, x->n, sizeof(*e), entity_order);
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = i + 1; j < x->n && e[j].entity == e[i].entity; j++) {
            struct score_result sr;

            score_pair(&x->o->cfg, x->freq, x->r[e[i].rec].cr, x->r[e[j].rec].cr, &sr);
            conflicts += (sr.caps & SCORE_CAP_DOCUMENT) != 0;
        }
    free(e);
    r = 1.0 - (double)conflicts / truth;
    f = 2 * r / (1 + r);
    printf("  documents  %llu true pairs carry the document rule: under it automatic recall <= "
           "%.4f, F1 <= %.4f\n",
           (unsigned long long)conflicts, r, f);
}

static int report(struct run *x)
{
    const struct opts *o = x->o;
    long *ent = calloc(x->n ? x->n : 1, sizeof(long));
    uint64_t truth, cand_true = 0, tp_auto = 0, pred_auto = 0, tp_rev = 0;
    size_t review = 0, lost[7] = {0}, nc = x->blk.candidates;

    if (ent == NULL)
        return -1;
    for (size_t i = 0; i < x->n; i++)
        ent[i] = x->e[i].entity;
    truth = pairs_equal(ent, x->n);
    for (size_t i = 0; i < x->n; i++) {
        size_t k = 0;
        uint32_t m = (uint32_t)i;

        if (find(x, (uint32_t)i) != i)
            continue;
        do {
            ent[k++] = x->e[m].entity;
            m = x->next[m];
        } while (m != i);
        pred_auto += (uint64_t)k * (k - 1) / 2;
        tp_auto += pairs_equal(ent, k);
    }
    free(ent);
    for (size_t i = 0; i < nc; i++) {
        const struct pair *c = &x->c[i];
        bool t = same(x, c->a, c->b), linked = find(x, c->a) == find(x, c->b);

        cand_true += t;
        if (c->cls == SCORE_POSSIBLE_MATCH && !linked) {
            review++;
            tp_rev += t;
        }
        if (t && !linked) /* why a true pair was not linked automatically */
            lost[c->caps & SCORE_CAP_DOCUMENT          ? 0
                 : c->caps & SCORE_CAP_SIBLING         ? 1
                 : c->caps & SCORE_CAP_GENERATION      ? 2
                 : c->caps & SCORE_CAP_NAMES_ONLY      ? 3
                 : c->weight >= o->cfg.match_threshold ? 4
                                                       : 5]++;
    }
    printf("%s: %zu records, %llu true pairs%s%s", x->name, x->n, (unsigned long long)truth,
           o->no_doc ? ", documents ignored" : "", o->no_addr ? ", addresses ignored" : "");
    if (o->ignore_caps)
        printf(", DIAGNOSTIC: rules 0x%x ignored", o->ignore_caps);
    printf("\n  blocking   %zu candidate pairs  reduction ratio %.5f  pair completeness %.4f  "
           "largest block %zu\n",
           nc, x->n > 1 ? 1.0 - (double)nc / ((double)x->n * (x->n - 1) / 2) : 0.0,
           truth ? (double)cand_true / truth : 1.0, x->blk.largest);
    rates("automatic", tp_auto, pred_auto, truth);
    rates("+review", tp_auto + tp_rev, pred_auto + review, truth);
    printf("  review     %zu pairs (%llu true)\n", review, (unsigned long long)tp_rev);
    printf("  not linked true pairs: %llu unblocked, %zu document rule, %zu sibling rule, "
           "%zu generation rule, %zu names-only rule, %zu cluster conflict, %zu below threshold\n",
           (unsigned long long)(truth - cand_true), lost[0], lost[1], lost[2], lost[3], lost[4],
           lost[5]);
    print_document_bound(x, truth);
    printf("  time       %.2f us per comparison, %.2f us per record prepared\n",
           nc ? x->t_score * 1e6 / nc : 0.0, x->n ? x->t_prepare * 1e6 / x->n : 0.0);
    return 0;
}

/* ---- diagnostics for tuning */

static void show_pair(const struct run *x, const char *what, uint32_t a, uint32_t b)
{
    struct score_result sr;
    char why[600];

    score_pair(&x->o->cfg, x->freq, x->r[a].cr, x->r[b].cr, &sr);
    score_explain(&sr, why, sizeof(why));
    printf("    %s %s|%s\n      %s\n", what, x->e[a].id, x->e[b].id, why);
    for (int k = 0; k < 2; k++) {
        const struct eval_person *p = &x->e[k ? b : a];

        printf("      [%s %s|%s|%s %s|%s|%s|%s|%s|%s|%s %s]\n", p->kind, p->given, p->middle,
               p->surname1, p->surname2, p->sex, p->birthdate, p->doc_number, p->phone, p->street,
               p->city, p->postcode);
    }
}

/* True pairs that share no blocking key: what the blocking loses. */
static void show_unblocked(struct run *x)
{
    struct pair_set cand = {0};
    int shown = 0;

    for (size_t i = 0; i < x->blk.candidates; i++)
        if (pairs_set_add(&cand, x->c[i].a, x->c[i].b) < 0)
            goto out;
    for (uint32_t i = 0; i < x->n && shown < x->o->show_unblocked; i++)
        for (uint32_t j = i + 1; j < x->n && shown < x->o->show_unblocked; j++) {
            int added;

            if (!same(x, i, j))
                continue;
            if ((added = pairs_set_add(&cand, i, j)) < 0)
                goto out;
            if (added == 1 && shown++ >= 0)
                show_pair(x, "UNBLOCKED", i, j);
        }
out:
    pairs_set_free(&cand);
}

/* Empirical m and u of every field level over the candidate pairs, from the
 * ground truth: what the defaults in score.c were chosen from. (u here is
 * conditional on blocking, the population the scores decide on.) */
static void estimate(const struct run *x)
{
    static size_t cnt[2][SCORE_NFIELDS][16];
    size_t tot[2] = {0, 0};

    memset(cnt, 0, sizeof(cnt));
    for (size_t i = 0; i < x->blk.candidates; i++) {
        struct score_result sr;
        int t = same(x, x->c[i].a, x->c[i].b);

        score_pair(&x->o->cfg, x->freq, x->r[x->c[i].a].cr, x->r[x->c[i].b].cr, &sr);
        tot[t]++;
        for (int f = 0; f < SCORE_NFIELDS; f++)
            if (sr.item[f].level >= 0 && sr.item[f].level < 16)
                cnt[t][f][sr.item[f].level]++;
    }
    printf("  estimated m/u over candidate pairs (true %zu, false %zu):\n", tot[1], tot[0]);
    for (int f = 0; f < SCORE_NFIELDS; f++)
        for (int l = 0; l < 16; l++) {
            double m = tot[1] ? (double)cnt[1][f][l] / tot[1] : 0;
            double u = tot[0] ? (double)cnt[0][f][l] / tot[0] : 0;

            if (cnt[0][f][l] + cnt[1][f][l] > 0)
                printf("    %-11s %-13s m %.5f  u %.6f  log2(m/u) %+.1f\n",
                       score_field_name((enum score_field)f),
                       score_level_name((enum score_field)f, l), m, u,
                       m > 0 && u > 0 ? log2(m / u) : 0.0);
        }
}

static void diagnostics(struct run *x)
{
    const struct opts *o = x->o;
    size_t hist[2][HIST_BINS] = {{0}};
    int fp = 0, fn = 0, rv = 0;

    if (o->estimate)
        estimate(x);
    for (size_t i = 0; i < x->blk.candidates; i++) {
        const struct pair *c = &x->c[i];
        bool t = same(x, c->a, c->b), linked = find(x, c->a) == find(x, c->b);
        int bin = (int)floorf(c->weight / 4.0f) + 5;

        hist[t][bin < 0 ? 0 : bin >= HIST_BINS ? HIST_BINS - 1 : bin]++;
        if (linked && !t && fp < o->show && fp++ >= 0)
            show_pair(x, "FALSE LINK", c->a, c->b);
        if (t && !linked && c->cls != SCORE_POSSIBLE_MATCH && fn < o->show && fn++ >= 0)
            show_pair(x, "MISSED", c->a, c->b);
        if (!t && !linked && c->cls == SCORE_POSSIBLE_MATCH && rv < o->show_review && rv++ >= 0)
            show_pair(x, "FALSE REVIEW", c->a, c->b);
    }
    for (int b = 0; o->hist && b < HIST_BINS; b++)
        if (hist[0][b] || hist[1][b])
            printf("  weight %+4d..%+4d  true %6zu  false %6zu\n", (b - 5) * 4, (b - 4) * 4,
                   hist[1][b], hist[0][b]);
    if (o->show_unblocked)
        show_unblocked(x);
}

static void run_free(struct run *x)
{
    for (size_t i = 0; x->r && i < x->n; i++)
        cmp_record_free(x->r[i].cr);
    free(x->r);
    free(x->pp);
    free(x->c);
    free(x->parent);
    free(x->next);
    score_freq_free(x->freq);
}

static int evaluate(const char *name, const struct eval_person *e, size_t n, const struct opts *o)
{
    struct run x = {.name = name, .e = e, .n = n, .o = o};
    int rc = -1;

    if (prepare(&x) == 0 && block_and_score(&x) == 0) {
        cluster(&x);
        rc = report(&x);
        diagnostics(&x);
    }
    if (rc < 0)
        fprintf(stderr, "%s: out of memory\n", name);
    run_free(&x);
    return rc;
}

/* ---- command line */

static int usage(void)
{
    fprintf(stderr,
            "usage: ritra-linkage-eval [--febrl DIR] [--no-doc] [--no-address] [--only febrl|col]\n"
            "         [--col-size N] [--seed S] [--match BITS] [--possible BITS] [--max-block N]\n"
            "         [--show N] [--show-review N] [--show-unblocked N] [--hist] [--estimate]\n"
            "         [--ignore-rules MASK] [--write-col FILE]\n"
            "  --ignore-rules is a diagnostic: 1 document conflict, 2 sibling, 4 generation,\n"
            "  8 names only; the matcher itself always applies them.\n");
    return 2;
}

static bool num(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return s[0] && *end == '\0' && errno == 0 && *out >= 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;

        if (strcmp(a, "--no-doc") == 0) {
            o->no_doc = true;
            continue;
        }
        if (strcmp(a, "--no-address") == 0) {
            o->no_addr = true;
            continue;
        }
        if (strcmp(a, "--hist") == 0) {
            o->hist = true;
            continue;
        }
        if (strcmp(a, "--estimate") == 0) {
            o->estimate = true;
            continue;
        }
        if (v == NULL)
            return -1;
        i++;
        if (strcmp(a, "--febrl") == 0)
            o->febrl_dir = v;
        else if (strcmp(a, "--write-col") == 0)
            o->write_col = v;
        else if (strcmp(a, "--only") == 0 && (strcmp(v, "febrl") == 0 || strcmp(v, "col") == 0))
            o->febrl = strcmp(v, "febrl") == 0, o->col = !o->febrl;
        else if (!num(v, &x))
            return -1;
        else if (strcmp(a, "--col-size") == 0)
            o->col_base = (size_t)x;
        else if (strcmp(a, "--seed") == 0)
            o->seed = (uint64_t)x;
        else if (strcmp(a, "--match") == 0)
            o->cfg.match_threshold = x;
        else if (strcmp(a, "--possible") == 0)
            o->cfg.possible_threshold = x;
        else if (strcmp(a, "--max-block") == 0)
            o->max_block = (size_t)x;
        else if (strcmp(a, "--show") == 0)
            o->show = (int)x;
        else if (strcmp(a, "--show-review") == 0)
            o->show_review = (int)x;
        else if (strcmp(a, "--show-unblocked") == 0)
            o->show_unblocked = (int)x;
        else if (strcmp(a, "--ignore-rules") == 0)
            o->ignore_caps = (unsigned)x;
        else
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.febrl_dir = "../shared/data/febrl",
                     .febrl = true,
                     .col = true,
                     .col_base = 4000,
                     .seed = 20240611};
    int rc = 0;

    score_config_default(&o.cfg);
    if (parse(argc, argv, &o) < 0)
        return usage();
    printf("thresholds: MATCH >= %.1f bits, POSSIBLE_MATCH >= %.1f bits\n", o.cfg.match_threshold,
           o.cfg.possible_threshold);
    for (int d = 1; o.febrl && d <= 3; d++) {
        char path[1024], name[32];
        struct eval_person *e = NULL;
        long n;

        snprintf(path, sizeof(path), "%s/dataset%d.csv", o.febrl_dir, d);
        snprintf(name, sizeof(name), "febrl dataset%d", d);
        if ((n = febrl_load(path, &e)) < 0) {
            printf("%s: skipped, cannot read %s\n", name, path);
            continue;
        }
        rc |= evaluate(name, e, (size_t)n, &o);
        free(e);
    }
    if (o.col) {
        struct eval_person *e = NULL;
        long n = colgen_generate(o.seed, o.col_base, &e);
        char name[64];

        if (n < 0)
            return 1;
        if (o.write_col && febrl_write_csv(o.write_col, e, (size_t)n) != 0)
            fprintf(stderr, "cannot write %s\n", o.write_col);
        snprintf(name, sizeof(name), "colombian (seed %llu, %zu people)",
                 (unsigned long long)o.seed, o.col_base);
        rc |= evaluate(name, e, (size_t)n, &o);
        free(e);
    }
    return rc ? 1 : 0;
}
