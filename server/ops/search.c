/*
 * SearchPersons: the investigators' query (docs/search.md).
 *
 * The query becomes a person; its blocking keys find candidate records
 * (ritra_search_candidates returns only records whose case the agency may
 * at least hit); each is scored as the matcher would score a pair, grouped
 * by identity and ranked. A record counts only where the agency may see
 * its identifying fields, or where it may have a hit on the case (police
 * and prosecutors): otherwise a result would tell a victim-services
 * agency, say, that a record whose names it may not read carries the names
 * it typed. A second transaction fetches what the agency may see of the
 * page's identities, under the same rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../agency.h"
#include "../audit.h"
#include "../case_validate.h"
#include "../log.h"
#include "../match_query.h"
#include "../match_view.h"
#include "../matcher.h"
#include "../pgtext.h"
#include "../picklist.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define SEARCH_DEFAULT_PAGE 10
#define SEARCH_MAX_PAGE     50
#define SEARCH_MAX_RANKED   500 /* identities ranked per query; pages go no further */
#define SEARCH_TOKEN_PREFIX "P1~"
#define EXPLAIN_MAX         512

struct ranked {
    char identity[37];
    double best;               /* best total over the records that count */
    struct score_result shown; /* best over records the agency may see identified */
    bool identified;
    struct score_result any; /* best over all that count: class and reason */
};

struct search {
    struct request *r;
    struct mquery mq; /* the query as a person */
    struct mview_record qr;
    size_t offset, page;
    struct ranked *ranked;
    size_t n_ranked;
};

static void search_free(struct search *s)
{
    mview_record_clear(&s->qr);
    free(s->ranked);
    free(s);
}

/* Does this record count for the agency? See the comment at the top. */
static bool counts(const struct agency *a, const struct mview_facts *f, enum policy_level level,
                   const Ritra__Person *p)
{
    if (mview_identified(a, f, level, p))
        return true;
    if (a->kind != AGENCY_POLICE && a->kind != AGENCY_PROSECUTOR)
        return false;
    return !(strcmp(f->handling_code, "H3") == 0 && !f->h3_allow_hits && level < POLICY_RESTRICTED);
}

/* ---- the page's records ------------------------------------------------ */

struct record_out {
    Ritra__PersonRecord rec;
    Ritra__Person view;
    Ritra__CaseHit hit;
    Ritra__Person *person; /* decoded, freed after the reply */
    char reason[160];
};

static int by_best(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->best != b->best)
        return a->best < b->best ? 1 : -1;
    return strcmp(a->identity, b->identity);
}

static void fill_identity(Ritra__IdentityMatch *im, const struct ranked *rk)
{
    char explain[EXPLAIN_MAX];
    const struct score_result *src = rk->identified ? &rk->shown : &rk->any;

    ritra__identity_match__init(im);
    im->identity_id = (char *)rk->identity;
    im->score = rk->identified ? rk->shown.total : 0;
    im->match_class =
        (char *)score_class_name(src->cls == SCORE_NO_MATCH ? SCORE_POSSIBLE_MATCH : src->cls);
    mview_explain(src, explain, sizeof(explain));
    if (mview_agreements(explain, rk->identified, &im->explanation, &im->n_explanation) < 0) {
        im->explanation = NULL;
        im->n_explanation = 0;
    }
}

static void got_records(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct search *s = arg;
    struct request *r = s->r;
    const struct agency *a = request_agency(r);
    const PGresult *res = db_txn_result(t, 1);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__SearchPersonsResult out = RITRA__SEARCH_PERSONS_RESULT__INIT;
    size_t end = s->offset + s->page < s->n_ranked ? s->offset + s->page : s->n_ranked;
    size_t n_ids = end > s->offset ? end - s->offset : 0;
    Ritra__IdentityMatch *ims = NULL, **im_ptrs = NULL;
    Ritra__PersonRecord **rec_ptrs = NULL;
    struct record_out *recs = NULL;
    enum policy_level top = POLICY_NONE;
    char token[32] = "";
    int nrows;
    size_t n_recs = 0;

    if (db != DB_OK || res == NULL) {
        ops_fail_db(r, db, db_txn_error(t));
        search_free(s);
        return;
    }
    nrows = PQntuples(res);
    ims = calloc(n_ids ? n_ids : 1, sizeof(*ims));
    im_ptrs = calloc(n_ids ? n_ids : 1, sizeof(*im_ptrs));
    recs = calloc(nrows ? (size_t)nrows : 1, sizeof(*recs));
    rec_ptrs = calloc(nrows ? (size_t)nrows : 1, sizeof(*rec_ptrs));
    if (ims == NULL || im_ptrs == NULL || recs == NULL || rec_ptrs == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        goto out;
    }
    /* Rows come ordered by identity; each identity's records are one run. */
    for (size_t k = 0; k < n_ids; k++) {
        const struct ranked *rk = &s->ranked[s->offset + k];
        char reason[128];
        char explain[EXPLAIN_MAX];

        fill_identity(&ims[k], rk);
        im_ptrs[k] = &ims[k];
        mview_explain(&rk->any, explain, sizeof(explain));
        mview_reason(explain, reason, sizeof(reason));
        ims[k].records = &rec_ptrs[n_recs];
        for (int i = 0; i < nrows; i++) {
            struct mview_facts f;
            enum policy_level level;
            struct record_out *ro;
            const char *pbtext = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);

            if (strcmp(PQgetvalue(res, i, 0), rk->identity) != 0)
                continue;
            mview_facts_read(res, i, 5, &f);
            if (mview_check_level(a, &f, MVIEW_SEARCH, &level) < 0) {
                request_fail(r, RITRA__STATUS_CODE__INTERNAL,
                             "access decision inconsistent; refused", NULL);
                goto out;
            }
            ro = &recs[n_recs];
            if (pbtext != NULL) {
                size_t len = 0;
                unsigned char *raw = PQunescapeBytea((const unsigned char *)pbtext, &len);

                ro->person = raw ? ritra__person__unpack(NULL, len, raw) : NULL;
                PQfreemem(raw);
                if (ro->person == NULL) {
                    request_fail(r, RITRA__STATUS_CODE__INTERNAL, "stored person cannot be read",
                                 NULL);
                    goto out;
                }
            }
            if (!counts(a, &f, level, ro->person)) {
                if (ro->person != NULL)
                    ritra__person__free_unpacked(ro->person, NULL);
                ro->person = NULL;
                continue;
            }
            snprintf(ro->reason, sizeof(ro->reason), "person search: %s", reason);
            mview_fill_record(&ro->rec, &ro->view, &ro->hit, a, &f, level, PQgetvalue(res, i, 1),
                              rk->identity, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                              ro->person, ro->reason);
            rec_ptrs[n_recs++] = &ro->rec;
            ims[k].n_records++;
            audit_note_case(request_audit(r), f.case_id);
            if (level > top)
                top = level;
        }
    }
    if (end < s->n_ranked)
        snprintf(token, sizeof(token), SEARCH_TOKEN_PREFIX "%zu", end);
    out.identities = im_ptrs;
    out.n_identities = n_ids;
    out.next_page_token = token;
    request_audit(r)->records = (int)n_ids;
    request_audit(r)->visibility = top > POLICY_NONE ? policy_level_name(top) : "";
    resp.result_case = RITRA__RESPONSE__RESULT_SEARCH_PERSONS;
    resp.search_persons = &out;
    request_reply(r, &resp);
out:
    for (size_t k = 0; ims != NULL && k < n_ids; k++)
        mview_agreements_free(ims[k].explanation, ims[k].n_explanation);
    for (size_t i = 0; recs != NULL && i < (size_t)nrows; i++)
        if (recs[i].person != NULL)
            ritra__person__free_unpacked(recs[i].person, NULL);
    free(ims);
    free(im_ptrs);
    free(recs);
    free(rec_ptrs);
    search_free(s);
}

static void fetch_records(struct search *s)
{
    /* clang-format off */
    static const char sql[] =
        "SELECT identity_id, person_id, role, person_ref, person_pb, " MVIEW_FACTS("facts")
        " FROM ritra_identity_records($1::uuid[], false)";
    /* clang-format on */
    size_t end = s->offset + s->page < s->n_ranked ? s->offset + s->page : s->n_ranked;
    size_t n = end > s->offset ? end - s->offset : 0;
    char **ids = calloc(n ? n : 1, sizeof(*ids)), *lit;
    struct db_txn *t;

    if (ids == NULL)
        abort();
    for (size_t k = 0; k < n; k++)
        ids[k] = s->ranked[s->offset + k].identity;
    lit = pgtext_array(ids, n);
    free(ids);
    if (lit == NULL)
        abort();
    t = agency_txn(request_agency(s->r));
    if (db_txn_add(t, sql, 1, (const char *const *)&lit) < 0)
        abort();
    free(lit);
    db_submit(server_db(request_server(s->r)), t, got_records, s);
}

/* ---- candidates --------------------------------------------------------- */

static struct ranked *rank_slot(struct search *s, const char *identity)
{
    for (size_t k = 0; k < s->n_ranked; k++)
        if (strcmp(s->ranked[k].identity, identity) == 0)
            return &s->ranked[k];
    return NULL;
}

static void got_candidates(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct search *s = arg;
    struct request *r = s->r;
    const struct agency *a = request_agency(r);
    const struct matcher *m = server_matcher(request_server(r));
    const struct score_config *scfg = matcher_score_config(m);
    double floor = server_config(request_server(r))->search_min_score;
    const PGresult *res = db_txn_result(t, 1);
    int n;

    if (db != DB_OK || res == NULL) {
        ops_fail_db(r, db, db_txn_error(t));
        search_free(s);
        return;
    }
    n = PQntuples(res);
    s->ranked = calloc(n ? (size_t)n : 1, sizeof(*s->ranked));
    if (s->ranked == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        search_free(s);
        return;
    }
    for (int i = 0; i < n; i++) {
        struct mview_facts f;
        enum policy_level level;
        struct mview_record mr;
        struct score_result sr;
        struct ranked *rk;
        size_t len = 0;
        unsigned char *raw;
        bool identified;

        mview_facts_read(res, i, 5, &f);
        if (mview_check_level(a, &f, MVIEW_SEARCH, &level) < 0) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                         NULL);
            search_free(s);
            return;
        }
        raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 4), &len);
        if (raw == NULL || mview_record_init(&mr, raw, len) < 0) {
            PQfreemem(raw);
            log_msg(LOG_ERROR, "search_record_corrupt", PQgetvalue(res, i, 0));
            continue;
        }
        PQfreemem(raw);
        identified = mview_identified(a, &f, level, mr.person);
        if (!counts(a, &f, level, mr.person)) {
            mview_record_clear(&mr);
            continue;
        }
        score_pair(scfg, matcher_freq(m), s->qr.rec, mr.rec, &sr);
        mview_record_clear(&mr);
        if (sr.total < floor)
            continue;
        rk = rank_slot(s, PQgetvalue(res, i, 1));
        if (rk == NULL) {
            rk = &s->ranked[s->n_ranked++];
            snprintf(rk->identity, sizeof(rk->identity), "%s", PQgetvalue(res, i, 1));
            rk->best = -1e9;
            rk->any.total = -1e9;
            rk->shown.total = -1e9;
        }
        if (sr.total > rk->any.total)
            rk->any = sr;
        if (identified && sr.total > rk->shown.total) {
            rk->shown = sr;
            rk->identified = true;
        }
        if (sr.total > rk->best)
            rk->best = sr.total;
    }
    qsort(s->ranked, s->n_ranked, sizeof(*s->ranked), by_best);
    if (s->n_ranked > SEARCH_MAX_RANKED)
        s->n_ranked = SEARCH_MAX_RANKED;
    if (s->offset >= s->n_ranked) {
        Ritra__Response resp = RITRA__RESPONSE__INIT;
        Ritra__SearchPersonsResult out = RITRA__SEARCH_PERSONS_RESULT__INIT;

        request_audit(r)->records = 0;
        resp.result_case = RITRA__RESPONSE__RESULT_SEARCH_PERSONS;
        resp.search_persons = &out;
        request_reply(r, &resp);
        search_free(s);
        return;
    }
    fetch_records(s);
}

/* ---- the request ------------------------------------------------------ */

void op_search_persons(struct request *r)
{
    /* clang-format off */
    static const char candidates_sql[] =
        "SELECT person_id, identity_id, role, person_ref, person_pb, " MVIEW_FACTS("facts")
        " FROM ritra_search_candidates($1::text[], $2::integer, $3::text[])";
    /* clang-format on */
    const Ritra__SearchPersonsRequest *m = request_msg(r)->search_persons;
    const struct config *cfg = server_config(request_server(r));
    struct field_errors fe;
    struct search *s;
    const char *why = NULL;
    char keys[SCORE_MAX_KEYS][SCORE_KEY_MAX], *key_ptrs[SCORE_MAX_KEYS],
        *roles_lit = NULL, *keys_lit, cap[16], path[64];
    size_t n_keys;
    bool has_name = *m->name || *m->given_names || *m->surnames;
    struct db_txn *t;
    const char *v[3];

    fe_init(&fe);
    validate_text(&fe, "search_persons.name", m->name, MQUERY_NAME_MAX, false, false);
    validate_text(&fe, "search_persons.given_names", m->given_names, 100, false, false);
    validate_text(&fe, "search_persons.surnames", m->surnames, 100, false, false);
    validate_text(&fe, "search_persons.document_number", m->document_number, 64, false, false);
    if (*m->name && (*m->given_names || *m->surnames))
        fe_add(&fe, "search_persons.name", "give either name or given_names/surnames");
    if (!has_name && !*m->document_number)
        fe_add(&fe, "search_persons", "give a name or a document number");
    if (*m->birth_date && !case_date_valid(m->birth_date, true, time(NULL), &why))
        fe_add(&fe, "search_persons.birth_date", "%s", why ? why : "not a date");
    if (*m->document_type && !picklist_valid(PICKLIST_DOCUMENT_TYPE, m->document_type))
        fe_add(&fe, "search_persons.document_type", "not an IdentityDocument type");
    if (*m->citizenship && !picklist_country_valid(m->citizenship))
        fe_add(&fe, "search_persons.citizenship", "not an ISO 3166-1 alpha-2 code");
    for (size_t i = 0; i < m->n_role; i++) {
        snprintf(path, sizeof(path), "search_persons.role[%zu]", i);
        if (!picklist_valid(PICKLIST_ROLE, m->role[i]))
            fe_add(&fe, path, "not a role (Victim, Suspect, Witness, Other)");
    }
    if (m->n_role > 4)
        fe_add(&fe, "search_persons.role", "at most 4 roles");
    if (m->page_size > SEARCH_MAX_PAGE)
        fe_add(&fe, "search_persons.page_size", "at most %d", SEARCH_MAX_PAGE);
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        return;
    }
    if (*m->page_token) {
        char *end = NULL;
        unsigned long off = 0;

        if (strncmp(m->page_token, SEARCH_TOKEN_PREFIX, strlen(SEARCH_TOKEN_PREFIX)) == 0)
            off = strtoul(m->page_token + strlen(SEARCH_TOKEN_PREFIX), &end, 10);
        if (end == NULL || *end != '\0' || off == 0 || off >= SEARCH_MAX_RANKED)
            fe_add(&fe, "search_persons.page_token", "not a token from a previous page");
        s->offset = off;
    }
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        free(s);
        return;
    }
    s->r = r;
    s->page = m->page_size ? m->page_size : SEARCH_DEFAULT_PAGE;
    mquery_build(&s->mq, m);
    if (mview_record_init_person(&s->qr, &s->mq.person) < 0) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        free(s);
        return;
    }
    n_keys = score_blocking_keys(&s->qr.mp.person, keys, SCORE_MAX_KEYS);
    audit_note_detail(request_audit(r), "name", m->name);
    audit_note_detail(request_audit(r), "given_names", m->given_names);
    audit_note_detail(request_audit(r), "surnames", m->surnames);
    audit_note_detail(request_audit(r), "birth_date", m->birth_date);
    audit_note_detail(request_audit(r), "document_number", m->document_number);
    audit_note_detail(request_audit(r), "citizenship", m->citizenship);
    if (n_keys == 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT,
                     "the query has too little to search on (add a surname, a birth date or a "
                     "longer document number)",
                     NULL);
        search_free(s);
        return;
    }
    for (size_t k = 0; k < n_keys; k++)
        key_ptrs[k] = keys[k];
    keys_lit = pgtext_array(key_ptrs, n_keys);
    roles_lit = pgtext_array(m->role, m->n_role);
    if (keys_lit == NULL || roles_lit == NULL)
        abort();
    snprintf(cap, sizeof(cap), "%d", cfg->match_block_cap);
    v[0] = keys_lit;
    v[1] = cap;
    v[2] = roles_lit;
    t = agency_txn(request_agency(r));
    if (db_txn_add(t, candidates_sql, 3, v) < 0)
        abort();
    free(keys_lit);
    free(roles_lit);
    db_submit(server_db(request_server(r)), t, got_candidates, s);
}
