/*
 * ritra-linkage-server-eval: the person matcher's quality measured through
 * the real server (docs/matching.md, "Quality"; docs/benchmarks.md).
 *
 * Loads one dataset (a FEBRL CSV or the Colombian generator) into a running
 * ritra server through libritra: each record becomes one case holding one
 * person, submitted by one agency in SubmitCases batches. Records the server
 * refuses are counted with the reasons, and resubmitted once without the
 * refused fields (an agency would correct and resend them). It then waits
 * until the server's matcher has linked every person (CaseMatches), reads
 * every case's identity (CaseMatches) and the review queue (ListMatches,
 * PENDING, every page), and prints pairwise precision, recall and F1 against
 * the ground truth:
 *
 *   automatic          pairs of records in one identity;
 *   +review (pairs)    those, plus the two records of each pending candidate
 *                      (as ritra-linkage-eval counts its review pairs);
 *   +review (closure)  identities joined along every pending candidate, as if
 *                      a reviewer confirmed them all (a confirmation merges
 *                      the two identities, not only the two records);
 *   +review (reviewed) identities joined along the true candidates only: the
 *                      registry after a reviewer who never errs.
 *
 * Then, on exactly the records the server accepted, it runs the offline
 * evaluation in process (blocking, scoring and strongest-first clustering
 * as tools/eval/linkage.c does) and compares the two pair by pair: why the
 * true pairs the server left apart were left apart (their own score, the
 * name frequencies of the time they were matched, the record beginning an
 * identity of its own or joining another), and what the review queue holds
 * of them. --show N prints examples.
 *
 * It needs a fresh database: every case of the submitting agency is taken
 * as part of the dataset (tools/eval/server-eval starts one per dataset).
 */
#include "colgen.h"
#include "febrl.h"
#include "from_proto.h"
#include "pairs.h"
#include "ritra.h"
#include "score.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REASONS  32
#define READ_CHUNK   100
#define POLL_SECONDS 0.1

struct opts {
    const char *febrl, *name, *role, *order;
    const char *addr, *ca, *cert, *key;
    bool col, no_doc, no_addr, no_resubmit;
    size_t col_base, batch, block_cap, page_size;
    uint64_t seed, shuffle_seed;
    double timeout;
    int show;
    struct score_config cfg;
};

enum rec_state { REC_NEW, REC_ACCEPTED, REC_REFUSED, REC_LOST };

/* One record and the case that carries it. */
struct rec {
    struct eval_person *e;
    char birth[16], street[128];
    Ritra__Case c;
    Ritra__Person p, *pp;
    Ritra__IdentityDocument doc, *docp;
    Ritra__Address addr, *addrp;
    char *cit, *phone;
    enum rec_state state;
    bool refused_once;
    char case_id[37], person_id[37], identity[37], link_state[12];
};

struct reason {
    char text[160];
    size_t n;
};

struct run {
    const struct opts *o;
    struct rec *r;
    size_t n;
    size_t *order; /* submission order */
    struct ritra_conn *conn;
    /* submission */
    size_t accepted_first, refused, resubmitted, resubmit_ok, lost, requests;
    struct reason reasons[MAX_REASONS];
    size_t n_reasons;
    double t_load, t_matched;
    size_t pending_left;
    /* the server's answer */
    long *ident;              /* identity label per record; unaccepted: a label of its own */
    size_t n_ident, n_shared; /* identities; records sharing theirs */
    uint32_t (*cand)[2];      /* pending candidates, record indexes */
    bool *cand_match;         /* class MATCH (held back by a rule) */
    size_t n_cand;
    /* the in-process offline evaluation */
    struct cmp_record **cr;
    struct match_proto *mp;
    struct score_freq *freq;
    struct pair *oc; /* candidate pairs (record indexes) */
    size_t n_oc;
    uint32_t *oparent, *onext;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    nanosleep(&ts, NULL);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (p == NULL) {
        fprintf(stderr, "ritra-linkage-server-eval: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return (uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a);
}

static int cmp_u64(const void *p, const void *q)
{
    uint64_t a = *(const uint64_t *)p, b = *(const uint64_t *)q;

    return a < b ? -1 : a > b;
}

static bool has_pair(const uint64_t *sorted, size_t n, uint32_t a, uint32_t b)
{
    uint64_t k = pair_key(a, b);

    return bsearch(&k, sorted, n, sizeof(k), cmp_u64) != NULL;
}

/* ---- union-find over record indexes */

static uint32_t uf_find(uint32_t *p, uint32_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static void uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b)
        p[b] = a;
}

/* ---- pair counting */

struct lab {
    long label, entity;
};

static int cmp_lab(const void *p, const void *q)
{
    const struct lab *a = p, *b = q;

    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    return a->entity < b->entity ? -1 : a->entity > b->entity;
}

/* Pairs of records sharing a label (*pred) and of those, the true ones (*tp). */
static void partition_pairs(const struct run *x, const long *label, uint64_t *pred, uint64_t *tp)
{
    struct lab *v = xcalloc(x->n, sizeof(*v));

    for (size_t i = 0; i < x->n; i++)
        v[i] = (struct lab){label[i], x->r[i].e->entity};
    qsort(v, x->n, sizeof(*v), cmp_lab);
    *pred = *tp = 0;
    for (size_t i = 0, j; i < x->n; i = j) {
        for (j = i; j < x->n && v[j].label == v[i].label; j++)
            ;
        *pred += (uint64_t)(j - i) * (j - i - 1) / 2;
        for (size_t k = i, l; k < j; k = l) {
            for (l = k; l < j && v[l].entity == v[k].entity; l++)
                ;
            *tp += (uint64_t)(l - k) * (l - k - 1) / 2;
        }
    }
    free(v);
}

static void rates(const char *label, uint64_t tp, uint64_t pred, uint64_t truth)
{
    double p = pred ? (double)tp / pred : 1.0, r = truth ? (double)tp / truth : 1.0;

    printf("  %-19s precision %.4f  recall %.4f  F1 %.4f  (TP %llu FP %llu FN %llu)\n", label, p, r,
           p + r > 0 ? 2 * p * r / (p + r) : 0.0, (unsigned long long)tp,
           (unsigned long long)(pred - tp), (unsigned long long)(truth - tp));
}

/* ---- the dataset as cases */

static bool blank(const char *s)
{
    return s == NULL || s[strspn(s, " ")] == '\0';
}

/* "a  b c " -> "a b c" */
static void squeeze(char *dst, size_t cap, const char *s)
{
    size_t o = 0;

    for (; *s && o + 1 < cap; s++)
        if (*s != ' ' || (o > 0 && s[1] != ' ' && s[1] != '\0'))
            dst[o++] = *s;
    dst[o] = '\0';
}

/* FEBRL writes YYYYMMDD; the protocol wants YYYY-MM-DD. Anything else is
 * passed on as written (the server judges it). */
static void iso_date(char *dst, size_t cap, const char *s)
{
    if (strlen(s) == 8 && strspn(s, "0123456789") == 8)
        snprintf(dst, cap, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
    else
        snprintf(dst, cap, "%s", s);
}

/* The case for record r: the mapping of tools/eval/linkage.c's prepare()
 * onto the wire Person. */
static void build_case(const struct opts *o, struct rec *r)
{
    struct eval_person *e = r->e;

    ritra__case__init(&r->c);
    ritra__person__init(&r->p);
    r->c.external_ref = e->id;
    r->c.cas_status = "Active";
    r->c.handling_code = "H1";
    r->c.source_reliability = "B";
    r->c.information_accuracy = "2";
    r->pp = &r->p;
    r->c.persons = &r->pp;
    r->c.n_persons = 1;
    r->p.person_ref = "p1";
    r->p.role = (char *)o->role;
    r->p.prs_firstname = e->given;
    r->p.prs_middlename = e->middle;
    r->p.first_surname = e->surname1;
    r->p.second_surname = e->surname2;
    r->p.sex = e->sex;
    iso_date(r->birth, sizeof(r->birth), e->birthdate);
    r->p.prs_birthdate = r->birth;
    if (*e->citizenship) {
        r->cit = e->citizenship;
        r->p.prs_citizenship = &r->cit;
        r->p.n_prs_citizenship = 1;
    }
    if (*e->doc_number && !o->no_doc) {
        ritra__identity_document__init(&r->doc);
        r->doc.type = e->doc_type;
        r->doc.number = e->doc_number;
        r->doc.issuing_country = e->doc_country;
        r->docp = &r->doc;
        r->p.documents = &r->docp;
        r->p.n_documents = 1;
    }
    if (*e->phone) {
        r->phone = e->phone;
        r->p.phones = &r->phone;
        r->p.n_phones = 1;
    }
    squeeze(r->street, sizeof(r->street), e->street);
    if (!o->no_addr &&
        (*r->street || !blank(e->city) || !blank(e->postcode) || !blank(e->addr_country))) {
        ritra__address__init(&r->addr);
        r->addr.street = r->street;
        r->addr.city = e->city;
        r->addr.postal_code = e->postcode;
        r->addr.country = e->addr_country;
        r->addrp = &r->addr;
        r->p.addresses = &r->addrp;
        r->p.n_addresses = 1;
    }
}

/* Clears the field a FieldError path names. Returns false when the path
 * names nothing that can be left out (the record is then lost). */
static bool strip_field(struct rec *r, const char *path)
{
    static const struct {
        const char *field;
        size_t off;
    } names[] = {
        {".prs_FirstName", offsetof(Ritra__Person, prs_firstname)},
        {".prs_MiddleName", offsetof(Ritra__Person, prs_middlename)},
        {".first_surname", offsetof(Ritra__Person, first_surname)},
        {".second_surname", offsetof(Ritra__Person, second_surname)},
        {".sex", offsetof(Ritra__Person, sex)},
        {".prs_Birthdate", offsetof(Ritra__Person, prs_birthdate)},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strstr(path, names[i].field)) {
            *(char **)((char *)&r->p + names[i].off) = "";
            return true;
        }
    if (strstr(path, ".prs_Citizenship"))
        r->p.n_prs_citizenship = 0;
    else if (strstr(path, ".documents"))
        r->p.n_documents = 0;
    else if (strstr(path, ".phones"))
        r->p.n_phones = 0;
    else if (strstr(path, ".addresses"))
        r->p.n_addresses = 0;
    else
        return false;
    return true;
}

static void count_reason(struct run *x, const char *path, const char *why)
{
    const char *p = strstr(path, "persons[0]");
    char text[160];

    /* "submit_cases.items[7].case.persons[0].prs_Birthdate" -> "prs_Birthdate" */
    if (p != NULL)
        p += strlen("persons[0]") + (p[strlen("persons[0]")] == '.');
    snprintf(text, sizeof(text), "%s: %s", p == NULL ? path : *p ? p : "person", why);
    for (size_t i = 0; i < x->n_reasons; i++)
        if (strcmp(x->reasons[i].text, text) == 0) {
            x->reasons[i].n++;
            return;
        }
    if (x->n_reasons < MAX_REASONS) {
        snprintf(x->reasons[x->n_reasons].text, sizeof(x->reasons[0].text), "%s", text);
        x->reasons[x->n_reasons++].n = 1;
    }
}

/* ---- submission */

/* One SubmitCases request of the records idx[0..n); retried while the
 * failure is transient. Returns 0, or -1 (reported). */
static int submit_batch(struct run *x, const size_t *idx, size_t n, bool second)
{
    const Ritra__Case *cases[1000];
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    int tries = 0;

    for (size_t i = 0; i < n; i++)
        cases[i] = &x->r[idx[i]].c;
    while (ritra_submit_cases(x->conn, cases, NULL, n, &resp, &err) < 0) {
        if (!ritra_status_retryable(err.code) || err.code >= RITRA_E_CONNECT || ++tries > 5) {
            fprintf(stderr, "SubmitCases failed: %s: %s\n%s\n", ritra_status_name(err.code),
                    err.message, err.details);
            return -1;
        }
        sleep_s(0.5 * tries);
    }
    x->requests++;
    for (size_t i = 0; i < n; i++) {
        const Ritra__SubmitCasesItem *it = resp->submit_cases->items[i];
        struct rec *r = &x->r[idx[i]];
        int code = (int)it->status->code;

        if (code == RITRA__STATUS_CODE__OK && it->result != NULL) {
            snprintf(r->case_id, sizeof(r->case_id), "%s", it->result->case_id);
            r->state = REC_ACCEPTED;
            x->accepted_first += !second;
            x->resubmit_ok += second;
            continue;
        }
        if (code != RITRA__STATUS_CODE__INVALID_ARGUMENT) {
            fprintf(stderr, "%s: %s: %s\n", r->e->id, ritra_status_name(code), it->status->message);
            ritra__response__free_unpacked(resp, NULL);
            return -1;
        }
        if (second) {
            r->state = REC_LOST;
            continue;
        }
        x->refused++;
        r->refused_once = true;
        r->state = REC_REFUSED;
        for (size_t k = 0; k < it->status->n_details; k++) {
            count_reason(x, it->status->details[k]->path, it->status->details[k]->reason);
            if (!strip_field(r, it->status->details[k]->path))
                r->state = REC_LOST;
        }
        if (it->status->n_details == 0)
            r->state = REC_LOST;
    }
    ritra__response__free_unpacked(resp, NULL);
    return 0;
}

static int submit_all(struct run *x)
{
    size_t *idx = xcalloc(x->n, sizeof(*idx)), m = 0;
    double t0 = now();
    int rc = -1;

    for (size_t i = 0; i < x->n; i += x->o->batch) {
        size_t k = x->n - i < x->o->batch ? x->n - i : x->o->batch;

        if (submit_batch(x, x->order + i, k, false) < 0)
            goto out;
    }
    for (size_t i = 0; i < x->n; i++) {
        struct rec *r = &x->r[x->order[i]];

        if (r->state != REC_REFUSED)
            continue;
        if (x->o->no_resubmit)
            r->state = REC_LOST;
        else
            idx[m++] = x->order[i];
    }
    x->resubmitted = m;
    for (size_t i = 0; i < m; i += x->o->batch)
        if (submit_batch(x, idx + i, m - i < x->o->batch ? m - i : x->o->batch, true) < 0)
            goto out;
    for (size_t i = 0; i < x->n; i++)
        x->lost += x->r[i].state == REC_LOST;
    x->t_load = now() - t0;
    rc = 0;
out:
    free(idx);
    return rc;
}

/* ---- reading the server's answer */

/* CaseMatches for the records idx[0..n), pipelined; fills person_id,
 * identity and link_state. Returns the number still PENDING, or -1. */
static long read_links(struct run *x, const size_t *idx, size_t n)
{
    Ritra__Request reqs[READ_CHUNK], *rp[READ_CHUNK];
    Ritra__CaseMatchesRequest cm[READ_CHUNK];
    Ritra__Response *resps[READ_CHUNK];
    struct ritra_error err;
    long pending = 0;

    for (size_t i = 0; i < n; i += READ_CHUNK) {
        size_t k = n - i < READ_CHUNK ? n - i : READ_CHUNK;

        for (size_t j = 0; j < k; j++) {
            ritra__request__init(&reqs[j]);
            ritra__case_matches_request__init(&cm[j]);
            cm[j].case_id = x->r[idx[i + j]].case_id;
            reqs[j].id = j + 1;
            reqs[j].op_case = RITRA__REQUEST__OP_CASE_MATCHES;
            reqs[j].case_matches = &cm[j];
            rp[j] = &reqs[j];
        }
        if (ritra_call_batch(x->conn, rp, k, resps, &err) < 0) {
            fprintf(stderr, "CaseMatches: %s: %s\n%s\n", ritra_status_name(err.code), err.message,
                    err.details);
            return -1;
        }
        for (size_t j = 0; j < k; j++) {
            struct rec *r = &x->r[idx[i + j]];
            const Ritra__CaseMatchesResult *res;
            int bad = ritra_check_response(rp[j], resps[j], &err);

            res = bad ? NULL : resps[j]->case_matches;
            if (res == NULL || res->n_persons != 1) {
                fprintf(stderr, "CaseMatches %s: %s %s\n", r->case_id,
                        bad ? ritra_status_name(err.code) : "not one person",
                        bad ? err.message : "");
                for (; j < k; j++)
                    ritra__response__free_unpacked(resps[j], NULL);
                return -1;
            }
            snprintf(r->person_id, sizeof(r->person_id), "%s", res->persons[0]->person_id);
            snprintf(r->identity, sizeof(r->identity), "%s", res->persons[0]->identity_id);
            snprintf(r->link_state, sizeof(r->link_state), "%s", res->persons[0]->state);
            pending += strcmp(r->link_state, "PENDING") == 0;
            ritra__response__free_unpacked(resps[j], NULL);
        }
    }
    return pending;
}

/* Waits until no accepted record is PENDING, or until --timeout seconds
 * pass without one more being matched. The matcher takes its queue oldest
 * first, so the last record submitted is polled until it is matched (the
 * time of matching), then every record is read to make sure; records still
 * PENDING are read again until they are matched (the time moves on). */
static int wait_matched(struct run *x, double t_start)
{
    size_t *idx = xcalloc(x->n, sizeof(*idx)), m = 0, last = SIZE_MAX;
    long pending = -1, before = -1;
    double progress = now(), t_done = 0;
    int rc = -1;

    for (size_t i = 0; i < x->n; i++)
        if (x->r[x->order[i]].state == REC_ACCEPTED)
            idx[m++] = x->order[i];
    /* the resubmitted records went last */
    for (size_t i = 0; i < m; i++)
        if (x->r[idx[i]].refused_once)
            last = idx[i];
    if (last == SIZE_MAX && m > 0)
        last = idx[m - 1];
    while (last != SIZE_MAX && (pending = read_links(x, &last, 1)) != 0) {
        if (pending < 0)
            goto out;
        if (now() - progress > x->o->timeout)
            break;
        sleep_s(POLL_SECONDS);
    }
    t_done = now();
    progress = t_done;
    for (bool sweep = true;; sweep = false) {
        size_t k = 0;

        if ((pending = read_links(x, idx, m)) < 0)
            goto out;
        if (!sweep)
            t_done = now();
        if (pending == 0)
            break;
        if (pending != before)
            progress = now();
        else if (now() - progress > x->o->timeout)
            break;
        before = pending;
        for (size_t i = 0; i < m; i++) /* only the pending ones from now on */
            if (strcmp(x->r[idx[i]].link_state, "PENDING") == 0)
                idx[k++] = idx[i];
        m = k;
        sleep_s(POLL_SECONDS);
    }
    x->pending_left = (size_t)pending;
    x->t_matched = t_done - t_start;
    rc = 0;
out:
    free(idx);
    return rc;
}

static const struct rec *by_person_base;

static int cmp_person(const void *p, const void *q)
{
    return strcmp(by_person_base[*(const uint32_t *)p].person_id,
                  by_person_base[*(const uint32_t *)q].person_id);
}

static int cmp_ident(const void *p, const void *q)
{
    return strcmp(by_person_base[*(const uint32_t *)p].identity,
                  by_person_base[*(const uint32_t *)q].identity);
}

/* The record of a person_id, by binary search in sorted (or -1). */
static long record_of(const struct run *x, const uint32_t *sorted, size_t n, const char *pid)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(x->r[sorted[mid]].person_id, pid);

        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Identity labels, and the review queue as record pairs. */
static int read_queue(struct run *x)
{
    uint32_t *v = xcalloc(x->n, sizeof(*v));
    Ritra__ListMatchesRequest q = RITRA__LIST_MATCHES_REQUEST__INIT;
    char token[256] = "";
    size_t m = 0, cap = 0;
    int rc = -1;

    x->ident = xcalloc(x->n, sizeof(*x->ident));
    by_person_base = x->r;
    for (uint32_t i = 0; i < x->n; i++) {
        struct rec *r = &x->r[i];

        x->ident[i] = -1 - (long)i; /* not in the server: alone */
        if (r->state == REC_ACCEPTED && *r->identity)
            v[m++] = i;
    }
    qsort(v, m, sizeof(*v), cmp_ident);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i; j < m && strcmp(x->r[v[j]].identity, x->r[v[i]].identity) == 0; j++)
            x->ident[v[j]] = (long)x->n_ident;
        x->n_ident++;
        x->n_shared += j - i > 1 ? j - i : 0;
    }
    qsort(v, m, sizeof(*v), cmp_person);

    q.status = "PENDING";
    q.page_size = (uint32_t)x->o->page_size;
    do {
        Ritra__Response *resp = NULL;
        struct ritra_error err;
        const Ritra__ListMatchesResult *res;

        q.page_token = token;
        if (ritra_list_matches(x->conn, &q, &resp, &err) < 0) {
            fprintf(stderr, "ListMatches (page token \"%s\"): %s: %s\n%s\n", token,
                    ritra_status_name(err.code), err.message, err.details);
            goto out;
        }
        res = resp->list_matches;
        for (size_t i = 0; i < res->n_candidates; i++) {
            const Ritra__MatchCandidate *c = res->candidates[i];
            long a = c->own ? record_of(x, v, m, c->own->person_id) : -1;
            long b = c->other ? record_of(x, v, m, c->other->person_id) : -1;

            if (a < 0 || b < 0) {
                fprintf(stderr,
                        "ListMatches: candidate %s names a person not submitted here "
                        "(the database must be fresh)\n",
                        c->candidate_id);
                ritra__response__free_unpacked(resp, NULL);
                goto out;
            }
            if (x->n_cand == cap) {
                cap = cap ? 2 * cap : 1024;
                x->cand = realloc(x->cand, cap * sizeof(*x->cand));
                x->cand_match = realloc(x->cand_match, cap * sizeof(*x->cand_match));
                if (x->cand == NULL || x->cand_match == NULL) {
                    fprintf(stderr, "out of memory\n");
                    exit(1);
                }
            }
            x->cand[x->n_cand][0] = (uint32_t)a;
            x->cand[x->n_cand][1] = (uint32_t)b;
            x->cand_match[x->n_cand++] = strcmp(c->match_class, "MATCH") == 0;
        }
        snprintf(token, sizeof(token), "%s", res->next_page_token);
        ritra__response__free_unpacked(resp, NULL);
    } while (*token);
    rc = 0;
out:
    free(v);
    return rc;
}

/* ---- the offline evaluation, in process, on the accepted records */

static bool accepted(const struct run *x, size_t i)
{
    return x->r[i].state == REC_ACCEPTED;
}

static uint32_t ofind(struct run *x, uint32_t i)
{
    return uf_find(x->oparent, i);
}

/* tools/eval/linkage.c's link(): joins the clusters of a and b unless a
 * member of one has a rule against a member of the other. */
static bool olink(struct run *x, uint32_t a, uint32_t b)
{
    uint32_t ra = ofind(x, a), rb = ofind(x, b), i = a, j, t;

    if (ra == rb)
        return true;
    do {
        j = b;
        do {
            struct score_result sr;

            score_pair(&x->o->cfg, x->freq, x->cr[i], x->cr[j], &sr);
            if (sr.caps)
                return false;
            j = x->onext[j];
        } while (j != b);
        i = x->onext[i];
    } while (i != a);
    x->oparent[rb] = ra;
    t = x->onext[a];
    x->onext[a] = x->onext[b];
    x->onext[b] = t;
    return true;
}

static int by_weight_desc(const void *p, const void *q)
{
    const struct pair *a = p, *b = q;

    return a->weight < b->weight ? 1 : a->weight > b->weight ? -1 : 0;
}

static void offline(struct run *x)
{
    const struct match_person **pp = xcalloc(x->n, sizeof(*pp));
    uint32_t *acc = xcalloc(x->n, sizeof(*acc));
    struct pairs_blocking blk;
    size_t m = 0;

    x->cr = xcalloc(x->n, sizeof(*x->cr));
    x->mp = xcalloc(x->n, sizeof(*x->mp));
    x->oparent = xcalloc(x->n, sizeof(*x->oparent));
    x->onext = xcalloc(x->n, sizeof(*x->onext));
    if ((x->freq = score_freq_new()) == NULL)
        exit(1);
    for (uint32_t i = 0; i < x->n; i++) {
        x->oparent[i] = x->onext[i] = i;
        if (!accepted(x, i))
            continue;
        /* the Person exactly as it was last sent */
        if (match_proto_fill(&x->mp[i], &x->r[i].p) < 0 ||
            (x->cr[i] = cmp_record_new(&x->mp[i].person)) == NULL ||
            score_freq_add_person(x->freq, &x->mp[i].person) < 0)
            exit(1);
        pp[m] = &x->mp[i].person;
        acc[m++] = i;
    }
    x->oc = pairs_candidates(pp, m, x->o->block_cap, &blk);
    x->n_oc = blk.candidates;
    if (x->oc == NULL && x->n_oc > 0)
        exit(1);
    for (size_t i = 0; i < x->n_oc; i++) {
        struct pair *c = &x->oc[i];
        struct score_result sr;

        c->a = acc[c->a];
        c->b = acc[c->b];
        score_pair(&x->o->cfg, x->freq, x->cr[c->a], x->cr[c->b], &sr);
        c->weight = (float)sr.total;
        c->cls = (unsigned char)sr.cls;
        c->caps = (unsigned char)sr.caps;
    }
    qsort(x->oc, x->n_oc, sizeof(*x->oc), by_weight_desc);
    for (size_t i = 0; i < x->n_oc; i++)
        if (x->oc[i].cls == SCORE_MATCH && !olink(x, x->oc[i].a, x->oc[i].b))
            x->oc[i].cls = SCORE_POSSIBLE_MATCH;
    free(pp);
    free(acc);
}

/* ---- report */

/* A true pair the server left apart, by its own score (first that holds). */
enum kind {
    K_UNBLOCKED, /* no blocking key in common */
    K_MATCH,     /* MATCH, no rule */
    K_DOCUMENT,  /* MATCH weight, held by a rule */
    K_SIBLING,
    K_GENERATION,
    K_NAMES_ONLY,
    K_POSSIBLE,     /* POSSIBLE_MATCH weight */
    K_BELOW,        /* below POSSIBLE_MATCH */
    K_NOT_ACCEPTED, /* a record the server refused */
    NKINDS
};

static const char *const kind_names[NKINDS] = {
    "unblocked",       "MATCH",    "document rule",  "sibling rule", "generation rule",
    "names-only rule", "POSSIBLE", "below POSSIBLE", "not accepted",
};

/* What the pair's own score says, with the whole dataset's frequencies. */
static enum kind pair_kind(struct run *x, const uint64_t *blocked, uint32_t a, uint32_t b)
{
    struct score_result sr;

    if (!accepted(x, a) || !accepted(x, b))
        return K_NOT_ACCEPTED;
    if (!has_pair(blocked, x->n_oc, a, b))
        return K_UNBLOCKED;
    score_pair(&x->o->cfg, x->freq, x->cr[a], x->cr[b], &sr);
    if (sr.cls == SCORE_MATCH)
        return K_MATCH;
    if (sr.total >= x->o->cfg.match_threshold)
        return sr.caps & SCORE_CAP_DOCUMENT     ? K_DOCUMENT
               : sr.caps & SCORE_CAP_SIBLING    ? K_SIBLING
               : sr.caps & SCORE_CAP_GENERATION ? K_GENERATION
                                                : K_NAMES_ONLY;
    return sr.cls == SCORE_POSSIBLE_MATCH ? K_POSSIBLE : K_BELOW;
}

static void show_pair(struct run *x, const char *what, uint32_t a, uint32_t b)
{
    struct score_result sr;
    char why[600];

    if (!accepted(x, a) || !accepted(x, b))
        return;
    score_pair(&x->o->cfg, x->freq, x->cr[a], x->cr[b], &sr);
    score_explain(&sr, why, sizeof(why));
    printf("    %s %s|%s\n      %s\n", what, x->r[a].e->id, x->r[b].e->id, why);
    for (int k = 0; k < 2; k++) {
        const struct rec *r = &x->r[k ? b : a];
        const Ritra__Person *p = &r->p;

        printf("      [%s %s|%s %s|%s|%s|%s|%s|%s|%s] identity %.8s %s\n", p->prs_firstname,
               p->prs_middlename, p->first_surname, p->second_surname, p->sex, p->prs_birthdate,
               p->n_documents ? p->documents[0]->number : "", p->n_phones ? p->phones[0] : "",
               p->n_addresses ? p->addresses[0]->street : "",
               p->n_addresses ? p->addresses[0]->postal_code : "", r->identity, r->link_state);
    }
}

/* Counts one more example to show, up to max. */
static bool take(size_t *shown, int max)
{
    if (*shown >= (size_t)(max > 0 ? max : 0))
        return false;
    (*shown)++;
    return true;
}

/* What the report works from: per record its entity, the server's identity
 * (x->ident), the identities joined along true candidates, the offline
 * cluster and its arrival; pair lists sorted for lookups. */
struct report_ctx {
    struct run *x;
    long *ent, *reviewed, *offl;
    size_t *pos, *first;             /* arrival; per identity, its first record to arrive */
    uint64_t *blocked;               /* offline candidate pairs (x->n_oc) */
    uint64_t *cand;                  /* the server's pending candidates, record pairs (x->n_cand) */
    uint64_t *ipairs, *ipairs_match; /* identity pairs with a candidate (of class MATCH) */
    uint64_t truth;
    size_t accepted, shown[3];
};

/* Labels: identities joined along the pending candidates (only the true
 * ones when reviewed), as confirming a candidate merges two identities. */
static void join_labels(struct report_ctx *c, bool reviewed, long *out)
{
    struct run *x = c->x;
    uint32_t *uf = xcalloc(x->n, sizeof(*uf)), *head = xcalloc(x->n, sizeof(*head));

    for (uint32_t i = 0; i < x->n; i++)
        head[i] = UINT32_MAX;
    for (uint32_t i = 0; i < x->n; i++) {
        uf[i] = i;
        if (x->ident[i] < 0)
            continue;
        if (head[x->ident[i]] == UINT32_MAX)
            head[x->ident[i]] = i;
        else
            uf_union(uf, head[x->ident[i]], i);
    }
    for (size_t i = 0; i < x->n_cand; i++)
        if (!reviewed || c->ent[x->cand[i][0]] == c->ent[x->cand[i][1]])
            uf_union(uf, x->cand[i][0], x->cand[i][1]);
    for (uint32_t i = 0; i < x->n; i++)
        out[i] = uf_find(uf, i);
    free(uf);
    free(head);
}

static void report_load(struct report_ctx *c, const char *name)
{
    struct run *x = c->x;
    const struct opts *o = x->o;

    printf("%s: %zu records, %llu true pairs, role %s, %s order, SubmitCases of %zu\n", name, x->n,
           (unsigned long long)c->truth, o->role, o->order, o->batch);
    printf("  submitted  %zu accepted at once, %zu refused", x->accepted_first, x->refused);
    if (x->refused)
        printf(" (%zu resubmitted without the refused fields, %zu of them accepted)",
               x->resubmitted, x->resubmit_ok);
    printf("; %zu lost (left out: their true pairs count as missed)\n", x->lost);
    for (size_t i = 0; i < x->n_reasons; i++)
        printf("    refused: %zu x %s\n", x->reasons[i].n, x->reasons[i].text);
    printf("  time       load %.1f s (%.1f records/s, %zu requests); every record matched %.1f s "
           "after the first submission (%.1f records/s), %.1f s after the last\n",
           x->t_load, c->accepted / (x->t_load > 0 ? x->t_load : 1), x->requests, x->t_matched,
           c->accepted / (x->t_matched > 0 ? x->t_matched : 1), x->t_matched - x->t_load);
    if (x->pending_left)
        printf("  WARNING    %zu records still PENDING after %.0f s without progress (counted "
               "as unlinked)\n",
               x->pending_left, o->timeout);
    printf("  identities %zu for %zu records (%zu records share theirs with another)\n", x->n_ident,
           c->accepted, x->n_shared);
}

static void report_server(struct report_ctx *c)
{
    struct run *x = c->x;
    long *closure = xcalloc(x->n, sizeof(*closure));
    uint64_t pred, tp, rev_n = 0, rev_tp = 0, cp, ct;
    size_t cand_true = 0, cand_match = 0;

    partition_pairs(x, x->ident, &pred, &tp);
    rates("automatic", tp, pred, c->truth);
    for (size_t i = 0; i < x->n_cand; i++) {
        uint32_t a = x->cand[i][0], b = x->cand[i][1];
        bool t = c->ent[a] == c->ent[b];

        cand_true += t;
        cand_match += x->cand_match[i];
        if (x->ident[a] != x->ident[b]) {
            rev_n++;
            rev_tp += t;
        }
    }
    rates("+review (pairs)", tp + rev_tp, pred + rev_n, c->truth);
    join_labels(c, false, closure);
    partition_pairs(x, closure, &cp, &ct);
    rates("+review (closure)", ct, cp, c->truth);
    join_labels(c, true, c->reviewed);
    partition_pairs(x, c->reviewed, &cp, &ct);
    rates("+review (reviewed)", ct, cp, c->truth);
    printf("  review     %zu pending candidates (%zu true): %zu POSSIBLE_MATCH, %zu MATCH held "
           "back\n",
           x->n_cand, cand_true, x->n_cand - cand_match, cand_match);
    free(closure);
}

static void report_offline(struct report_ctx *c)
{
    struct run *x = c->x;
    uint32_t *uf = xcalloc(x->n, sizeof(*uf));
    long *lab = xcalloc(x->n, sizeof(*lab));
    uint64_t pred, tp, rev = 0, rev_tp = 0, rp, rt;

    for (uint32_t i = 0; i < x->n; i++) {
        c->offl[i] = ofind(x, i);
        uf[i] = (uint32_t)c->offl[i];
    }
    partition_pairs(x, c->offl, &pred, &tp);
    for (size_t i = 0; i < x->n_oc; i++) {
        const struct pair *p = &x->oc[i];
        bool t = c->ent[p->a] == c->ent[p->b];

        if (p->cls == SCORE_POSSIBLE_MATCH && c->offl[p->a] != c->offl[p->b]) {
            rev++;
            rev_tp += t;
            if (t) /* a reviewer who never errs confirms it */
                uf_union(uf, p->a, p->b);
        }
    }
    for (uint32_t i = 0; i < x->n; i++)
        lab[i] = uf_find(uf, i);
    partition_pairs(x, lab, &rp, &rt);
    printf("  offline, the same %zu records in process (tools/eval/linkage.c's clustering, "
           "block cap %zu):\n",
           c->accepted, x->o->block_cap);
    rates("  automatic", tp, pred, c->truth);
    rates("  +review (pairs)", tp + rev_tp, pred + rev, c->truth);
    rates("  +review (reviewed)", rt, rp, c->truth);
    printf("    review   %llu pairs (%llu true); false automatic pairs %llu\n",
           (unsigned long long)rev, (unsigned long long)rev_tp, (unsigned long long)(pred - tp));
    free(uf);
    free(lab);
}

static const struct rec *entity_base;

static int cmp_entity_base(const void *p, const void *q)
{
    long a = entity_base[*(const uint32_t *)p].e->entity,
         b = entity_base[*(const uint32_t *)q].e->entity;

    return a < b ? -1 : a > b;
}

struct missed {
    size_t n, kinds[NKINDS];
    size_t in_queue, via_identity, not_reviewable; /* coverage by the review queue */
    size_t direct_own, direct_cand[3];             /* of the direct MATCH pairs */
    size_t off_direct, off_chain, srv_only;        /* against the offline clusters */
    uint32_t (*direct)[2]; /* direct MATCH pairs (earlier, later) left apart */
    size_t n_direct;
};

/* One true pair (a arrived before b) that the server left in two identities. */
static void missed_pair(struct report_ctx *c, struct missed *m, uint32_t a, uint32_t b)
{
    struct run *x = c->x;
    enum kind kind = pair_kind(x, c->blocked, a, b);
    uint32_t ia = (uint32_t)x->ident[a], ib = (uint32_t)x->ident[b];
    bool off = kind != K_NOT_ACCEPTED && c->offl[a] == c->offl[b];

    m->n++;
    m->kinds[kind]++;
    if (has_pair(c->cand, x->n_cand, a, b))
        m->in_queue++;
    else if (c->reviewed[a] == c->reviewed[b])
        m->via_identity++;
    else
        m->not_reviewable++;
    if (kind == K_MATCH) {
        /* did b, the later one, begin an identity of its own, or join another? */
        m->direct_own += c->first[ib] == b;
        m->direct_cand[has_pair(c->ipairs_match, x->n_cand, ia, ib) ? 0
                       : has_pair(c->ipairs, x->n_cand, ia, ib)     ? 1
                                                                    : 2]++;
        m->direct[m->n_direct][0] = a;
        m->direct[m->n_direct++][1] = b;
    }
    m->off_direct += off && kind == K_MATCH;
    m->off_chain += off && kind != K_MATCH;
    if (off && take(&c->shown[kind != K_MATCH], x->o->show))
        show_pair(x,
                  kind == K_MATCH ? "DIRECT MATCH LINKED OFFLINE, NOT BY THE SERVER"
                                  : "LINKED OFFLINE THROUGH OTHER RECORDS, NOT BY THE SERVER",
                  a, b);
}

static const size_t *pos_base;

static int cmp_later(const void *p, const void *q)
{
    size_t a = pos_base[((const uint32_t *)p)[1]], b = pos_base[((const uint32_t *)q)[1]];

    return a < b ? -1 : a > b;
}

static int cmp_arrival(const void *p, const void *q)
{
    size_t a = pos_base[*(const uint32_t *)p], b = pos_base[*(const uint32_t *)q];

    return a < b ? -1 : a > b;
}

/* The server scores a record with the name frequencies of the records
 * matched before it, not of the whole dataset: how many of the direct MATCH
 * pairs were below MATCH with the frequencies of the records that arrived
 * before the later one? */
static size_t below_then(struct report_ctx *c, uint32_t (*d)[2], size_t n)
{
    struct run *x = c->x;
    uint32_t *v = xcalloc(x->n, sizeof(*v));
    struct score_freq *f = score_freq_new();
    size_t m = 0, k = 0, below = 0;

    if (f == NULL)
        exit(1);
    for (uint32_t i = 0; i < x->n; i++)
        if (accepted(x, i))
            v[m++] = i;
    pos_base = c->pos;
    qsort(v, m, sizeof(*v), cmp_arrival);
    qsort(d, n, sizeof(*d), cmp_later);
    for (size_t i = 0; i < n; i++) {
        struct score_result sr;

        for (; k < m && c->pos[v[k]] < c->pos[d[i][1]]; k++)
            if (score_freq_add_person(f, &x->mp[v[k]].person) < 0)
                exit(1);
        score_pair(&x->o->cfg, f, x->cr[d[i][0]], x->cr[d[i][1]], &sr);
        below += sr.cls != SCORE_MATCH;
    }
    score_freq_free(f);
    free(v);
    return below;
}

/* True pairs the server did not put in one identity, and why. */
static void report_missed(struct report_ctx *c)
{
    struct run *x = c->x;
    uint32_t *v = xcalloc(x->n, sizeof(*v));
    struct missed m = {0};

    m.direct = xcalloc((size_t)c->truth, sizeof(*m.direct));
    for (uint32_t i = 0; i < x->n; i++)
        v[i] = i;
    entity_base = x->r;
    qsort(v, x->n, sizeof(*v), cmp_entity_base);
    for (size_t i = 0, j; i < x->n; i = j) {
        for (j = i; j < x->n && c->ent[v[j]] == c->ent[v[i]]; j++)
            ;
        for (size_t k = i; k < j; k++)
            for (size_t l = k + 1; l < j; l++) {
                uint32_t a = v[k], b = v[l];

                if (c->pos[a] > c->pos[b]) {
                    a = v[l];
                    b = v[k];
                }
                if (x->ident[a] == x->ident[b])
                    m.srv_only += c->offl[a] != c->offl[b];
                else
                    missed_pair(c, &m, a, b);
            }
    }
    printf("  diagnosis  true pairs not in one server identity: %zu\n"
           "    by the pair's own score:",
           m.n);
    for (size_t k = 0; k < NKINDS; k++)
        printf(" %s %zu%s", kind_names[k], m.kinds[k], k + 1 < NKINDS ? "," : "\n");
    printf("    in the review queue as a pair %zu, their identities joined by a true candidate "
           "%zu, neither %zu\n",
           m.in_queue, m.via_identity, m.not_reviewable);
    printf("    the %zu direct MATCH pairs: below MATCH with the name frequencies of their time "
           "%zu; the later record began an identity of its own %zu, joined another %zu; their "
           "identities joined by a MATCH candidate %zu, a POSSIBLE one %zu, none %zu\n",
           m.n_direct, below_then(c, m.direct, m.n_direct), m.direct_own, m.n_direct - m.direct_own,
           m.direct_cand[0], m.direct_cand[1], m.direct_cand[2]);
    printf("    linked offline, not by the server: %zu true pairs (%zu a direct MATCH, %zu only "
           "through other records); linked by the server, not offline: %zu\n",
           m.off_direct + m.off_chain, m.off_direct, m.off_chain, m.srv_only);
    free(m.direct);
    free(v);
}

static void report_false(struct report_ctx *c)
{
    struct run *x = c->x;
    uint32_t *v = xcalloc(x->n, sizeof(*v));
    size_t n = 0, direct = 0, chain = 0;

    for (uint32_t i = 0; i < x->n; i++)
        if (x->ident[i] >= 0)
            v[n++] = i;
    by_person_base = x->r;
    qsort(v, n, sizeof(*v), cmp_ident);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && x->ident[v[j]] == x->ident[v[i]]; j++)
            ;
        for (size_t k = i; k < j; k++)
            for (size_t l = k + 1; l < j; l++) {
                struct score_result sr;

                if (c->ent[v[k]] == c->ent[v[l]])
                    continue;
                score_pair(&x->o->cfg, x->freq, x->cr[v[k]], x->cr[v[l]], &sr);
                direct += sr.cls == SCORE_MATCH;
                chain += sr.cls != SCORE_MATCH;
                if (take(&c->shown[2], x->o->show))
                    show_pair(x, "FALSE AUTOMATIC LINK", v[k], v[l]);
            }
    }
    printf("    false automatic pairs: %zu (%zu a direct MATCH, %zu through another record)\n",
           direct + chain, direct, chain);
    free(v);
}

static void report(struct run *x, const char *name)
{
    struct report_ctx c = {.x = x};
    long *tmp = xcalloc(x->n, sizeof(*tmp));

    c.ent = xcalloc(x->n, sizeof(*c.ent));
    c.reviewed = xcalloc(x->n, sizeof(*c.reviewed));
    c.offl = xcalloc(x->n, sizeof(*c.offl));
    c.pos = xcalloc(x->n, sizeof(*c.pos));
    c.first = xcalloc(x->n, sizeof(*c.first));
    c.blocked = xcalloc(x->n_oc, sizeof(*c.blocked));
    c.cand = xcalloc(x->n_cand, sizeof(*c.cand));
    c.ipairs = xcalloc(x->n_cand, sizeof(*c.ipairs));
    c.ipairs_match = xcalloc(x->n_cand, sizeof(*c.ipairs_match));
    for (size_t i = 0; i < x->n; i++) {
        tmp[i] = c.ent[i] = x->r[i].e->entity;
        c.accepted += accepted(x, i);
        c.first[i] = SIZE_MAX;
    }
    c.truth = pairs_equal(tmp, x->n); /* sorts tmp */
    /* arrival: submission order, the resubmitted records after all others */
    for (size_t i = 0; i < x->n; i++)
        c.pos[x->order[i]] = x->r[x->order[i]].refused_once ? x->n + i : i;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->ident[i] >= 0 &&
            (c.first[x->ident[i]] == SIZE_MAX || c.pos[i] < c.pos[c.first[x->ident[i]]]))
            c.first[x->ident[i]] = i;
    for (size_t i = 0; i < x->n_oc; i++)
        c.blocked[i] = pair_key(x->oc[i].a, x->oc[i].b);
    qsort(c.blocked, x->n_oc, sizeof(*c.blocked), cmp_u64);
    for (size_t i = 0; i < x->n_cand; i++) {
        uint32_t a = x->cand[i][0], b = x->cand[i][1];

        c.cand[i] = pair_key(a, b);
        c.ipairs[i] = pair_key((uint32_t)x->ident[a], (uint32_t)x->ident[b]);
        c.ipairs_match[i] = x->cand_match[i] ? c.ipairs[i] : UINT64_MAX;
    }
    qsort(c.cand, x->n_cand, sizeof(*c.cand), cmp_u64);
    qsort(c.ipairs, x->n_cand, sizeof(*c.ipairs), cmp_u64);
    qsort(c.ipairs_match, x->n_cand, sizeof(*c.ipairs_match), cmp_u64);

    report_load(&c, name);
    report_server(&c);
    report_offline(&c);
    report_missed(&c);
    report_false(&c);
    free(tmp);
    free(c.ent);
    free(c.reviewed);
    free(c.offl);
    free(c.pos);
    free(c.first);
    free(c.blocked);
    free(c.cand);
    free(c.ipairs);
    free(c.ipairs_match);
}

/* ---- command line */

static int usage(void)
{
    fprintf(
        stderr,
        "usage: ritra-linkage-server-eval (--febrl FILE | --col [--seed S] [--col-size N])\n"
        "         [--name NAME] [--role Victim|Suspect|Witness|Other] [--batch N]\n"
        "         [--order file|shuffle] [--shuffle-seed S] [--no-doc] [--no-address]\n"
        "         [--no-resubmit] [--timeout SECS] [--page-size N] [--show N]\n"
        "         [--match BITS] [--possible BITS] [--block-cap N]\n"
        "         [--addr HOST:PORT] [--ca FILE] [--cert FILE] [--key FILE]\n"
        "  Loads the dataset into a ritra server with a FRESH database (tools/eval/server-eval\n"
        "  starts one), waits for the matcher and prints precision/recall/F1.\n"
        "  --match/--possible/--block-cap: the server's match_threshold,\n"
        "  match_possible_threshold and match_block_cap, for the in-process offline run.\n"
        "  Connection defaults: $RITRA_ADDR, $RITRA_CA, $RITRA_CERT, $RITRA_KEY.\n");
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
        double d = 0;

        if (strcmp(a, "--col") == 0) {
            o->col = true;
            continue;
        }
        if (strcmp(a, "--no-doc") == 0) {
            o->no_doc = true;
            continue;
        }
        if (strcmp(a, "--no-address") == 0) {
            o->no_addr = true;
            continue;
        }
        if (strcmp(a, "--no-resubmit") == 0) {
            o->no_resubmit = true;
            continue;
        }
        if (v == NULL)
            return -1;
        i++;
        if (strcmp(a, "--febrl") == 0)
            o->febrl = v;
        else if (strcmp(a, "--name") == 0)
            o->name = v;
        else if (strcmp(a, "--role") == 0)
            o->role = v;
        else if (strcmp(a, "--order") == 0 && (strcmp(v, "file") == 0 || strcmp(v, "shuffle") == 0))
            o->order = v;
        else if (strcmp(a, "--addr") == 0)
            o->addr = v;
        else if (strcmp(a, "--ca") == 0)
            o->ca = v;
        else if (strcmp(a, "--cert") == 0)
            o->cert = v;
        else if (strcmp(a, "--key") == 0)
            o->key = v;
        else if (!num(v, &d))
            return -1;
        else if (strcmp(a, "--seed") == 0)
            o->seed = (uint64_t)d;
        else if (strcmp(a, "--shuffle-seed") == 0)
            o->shuffle_seed = (uint64_t)d;
        else if (strcmp(a, "--col-size") == 0)
            o->col_base = (size_t)d;
        else if (strcmp(a, "--batch") == 0 && d >= 1 && d <= 1000)
            o->batch = (size_t)d;
        else if (strcmp(a, "--page-size") == 0 && d >= 1 && d <= 200)
            o->page_size = (size_t)d;
        else if (strcmp(a, "--timeout") == 0)
            o->timeout = d;
        else if (strcmp(a, "--show") == 0)
            o->show = (int)d;
        else if (strcmp(a, "--match") == 0)
            o->cfg.match_threshold = d;
        else if (strcmp(a, "--possible") == 0)
            o->cfg.possible_threshold = d;
        else if (strcmp(a, "--block-cap") == 0)
            o->block_cap = (size_t)d;
        else
            return -1;
    }
    return o->col == (o->febrl != NULL) ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.role = "Victim",
                     .order = "file",
                     .col_base = 4000,
                     .seed = 20240611,
                     .shuffle_seed = 1,
                     .batch = 50,
                     .block_cap = 200,
                     .page_size = 200,
                     .timeout = 300};
    struct ritra_opts co = {0};
    struct ritra_error err;
    struct eval_person *e = NULL;
    struct run x = {.o = &o};
    char name[128];
    long n;
    double t0;

    score_config_default(&o.cfg);
    o.addr = getenv("RITRA_ADDR");
    o.ca = getenv("RITRA_CA");
    o.cert = getenv("RITRA_CERT");
    o.key = getenv("RITRA_KEY");
    if (parse(argc, argv, &o) < 0)
        return usage();
    if (o.addr == NULL || o.ca == NULL || o.cert == NULL) {
        fprintf(stderr, "ritra-linkage-server-eval: --addr, --ca and --cert (or RITRA_ADDR, "
                        "RITRA_CA, RITRA_CERT) are required\n");
        return 2;
    }
    if (o.febrl) {
        if ((n = febrl_load(o.febrl, &e)) < 0) {
            printf("%s: skipped, cannot read it\n", o.febrl);
            return 0;
        }
        snprintf(name, sizeof(name), "server %s", o.name ? o.name : o.febrl);
    } else {
        if ((n = colgen_generate(o.seed, o.col_base, &e)) < 0)
            return 1;
        snprintf(name, sizeof(name), "server %s (seed %llu, %zu people)",
                 o.name ? o.name : "colombian", (unsigned long long)o.seed, o.col_base);
    }
    x.n = (size_t)n;
    x.r = xcalloc(x.n, sizeof(*x.r));
    x.order = xcalloc(x.n, sizeof(*x.order));
    for (size_t i = 0; i < x.n; i++) {
        x.r[i].e = &e[i];
        build_case(&o, &x.r[i]);
        x.order[i] = i;
    }
    if (strcmp(o.order, "shuffle") == 0) { /* Fisher-Yates, xorshift64* */
        uint64_t s = o.shuffle_seed * 0x9e3779b97f4a7c15ULL + 1;

        for (size_t i = x.n; i > 1; i--) {
            size_t j, t;

            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            j = (size_t)((s * 0x2545f4914f6cdd1dULL) % i);
            t = x.order[i - 1];
            x.order[i - 1] = x.order[j];
            x.order[j] = t;
        }
    }

    co.addr = o.addr;
    co.ca_file = o.ca;
    co.cert_file = o.cert;
    co.key_file = o.key;
    co.actor = "ritra-linkage-server-eval";
    co.io_timeout_ms = 120000;
    co.max_in_flight = 32;
    if ((x.conn = ritra_connect(&co, &err)) == NULL) {
        fprintf(stderr, "connect %s: %s: %s\n", o.addr, ritra_status_name(err.code), err.message);
        return 1;
    }
    t0 = now();
    if (submit_all(&x) < 0 || wait_matched(&x, t0) < 0 || read_queue(&x) < 0) {
        ritra_close(x.conn);
        return 1;
    }
    ritra_close(x.conn);
    offline(&x);
    report(&x, name);
    for (size_t i = 0; i < x.n; i++) {
        cmp_record_free(x.cr[i]);
        match_proto_clear(&x.mp[i]);
    }
    free(x.cr);
    free(x.mp);
    free(x.oc);
    free(x.oparent);
    free(x.onext);
    free(x.ident);
    free(x.cand);
    free(x.cand_match);
    score_freq_free(x.freq);
    free(x.order);
    free(x.r);
    free(e);
    return 0;
}
