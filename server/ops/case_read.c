/*
 * GetCase and ListCases. For now an agency reads its own cases only; the
 * access rules (docs/access.md) widen this through grants.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../audit.h"
#include "../case_store.h"
#include "../case_validate.h"
#include "../log.h"
#include "../picklist.h"
#include "../policy.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define LIST_DEFAULT_PAGE 100
#define LIST_MAX_PAGE     500
#define LIST_TOKEN_PREFIX "L1~"

static void got_case(const struct case_row *rows, int n, enum db_outcome db, const char *error,
                     const char *next, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__GetCaseResult res = RITRA__GET_CASE_RESULT__INIT;
    Ritra__CaseHit hit;
    Ritra__Case *stored = NULL, view;
    enum policy_level level;

    (void)next;
    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        return;
    }
    if (n == 0) {
        request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, "no such case", NULL);
        return;
    }
    if (ops_row_level(request_agency(r), &rows[0], &level) < 0) {
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                     NULL);
        return;
    }
    if (level == POLICY_NONE) {
        request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, "no such case", NULL);
        return;
    }
    res.visibility = (char *)policy_level_name(level);
    res.handling_notice = (char *)policy_handling_notice(rows[0].handling_code);
    request_audit(r)->records = 1;
    request_audit(r)->visibility = policy_level_name(level);
    if (level == POLICY_HIT) {
        ops_fill_hit(&hit, &rows[0], "");
        res.hit = &hit;
    } else {
        stored = case_store_unpack(&rows[0]);
        if (stored == NULL) {
            log_msg(LOG_ERROR, "case_record_corrupt", rows[0].case_id);
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "stored case cannot be read", NULL);
            return;
        }
        case_store_view(stored, &rows[0], &view);
        res.case_ = &view;
    }
    resp.result_case = RITRA__RESPONSE__RESULT_GET_CASE;
    resp.get_case = &res;
    request_reply(r, &resp);
    if (stored != NULL)
        ritra__case__free_unpacked(stored, NULL);
}

void op_get_case(struct request *r)
{
    const Ritra__GetCaseRequest *m = request_msg(r)->get_case;
    bool by_id = m->case_id && *m->case_id, by_ref = m->external_ref && *m->external_ref;
    struct field_errors fe;

    fe_init(&fe);
    if (by_id == by_ref)
        fe_add(&fe, "get_case", "set exactly one of case_id and external_ref");
    else if (by_id && !ops_uuid_valid(m->case_id))
        fe_add(&fe, "get_case.case_id", "not a UUID");
    else if (by_ref)
        validate_text(&fe, "get_case.external_ref", m->external_ref, CASE_MAX_EXTERNAL_REF, true,
                      false);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    if (by_id)
        audit_note_case(request_audit(r), m->case_id);
    else
        audit_note_detail(request_audit(r), "external_ref", m->external_ref);
    case_store_get(server_db(request_server(r)), request_agency(r), by_id ? m->case_id : NULL,
                   by_ref ? m->external_ref : NULL, got_case, r);
}

/* The higher of a level name already noted and level. */
static const char *max_level_name(const char *noted, enum policy_level level)
{
    enum policy_level have = POLICY_NONE;

    policy_level_parse(noted, &have);
    return policy_level_name(level > have ? level : have);
}

static void listed(const struct case_row *rows, int n, enum db_outcome db, const char *error,
                   const char *next, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__ListCasesResult res = RITRA__LIST_CASES_RESULT__INIT;
    Ritra__SearchCasesResult sres = RITRA__SEARCH_CASES_RESULT__INIT;
    Ritra__CaseSummary *items = NULL, **ptrs = NULL;
    char token[160] = "";
    size_t kept = 0;

    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        return;
    }
    if (n > 0) {
        items = calloc((size_t)n, sizeof(*items));
        ptrs = calloc((size_t)n, sizeof(*ptrs));
        if (items == NULL || ptrs == NULL) {
            free(items);
            free(ptrs);
            request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        enum policy_level level;
        Ritra__CaseSummary *it = &items[kept];

        if (ops_row_level(request_agency(r), &rows[i], &level) < 0) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                         NULL);
            free(items);
            free(ptrs);
            return;
        }
        if (level == POLICY_NONE)
            continue; /* row-level security should not have let it through */
        ritra__case_summary__init(it);
        it->case_id = (char *)rows[i].case_id;
        it->owner_agency = (char *)rows[i].owner_code;
        it->handling_code = (char *)rows[i].handling_code;
        it->visibility = (char *)policy_level_name(level);
        if (level >= POLICY_RESTRICTED) {
            it->external_ref = (char *)rows[i].external_ref;
            it->version = rows[i].version;
            it->cas_status = (char *)rows[i].status;
            it->updated_at = (char *)rows[i].updated_at;
            it->person_count = (uint32_t)rows[i].person_count;
        }
        ptrs[kept++] = it;
        audit_note_case(request_audit(r), rows[i].case_id);
        request_audit(r)->visibility = max_level_name(request_audit(r)->visibility, level);
    }
    request_audit(r)->records = (int)kept;
    if (*next)
        snprintf(token, sizeof(token), LIST_TOKEN_PREFIX "%s", next);
    if (request_msg(r)->op_case == RITRA__REQUEST__OP_SEARCH_CASES) {
        sres.n_cases = kept;
        sres.cases = ptrs;
        sres.next_page_token = token;
        resp.result_case = RITRA__RESPONSE__RESULT_SEARCH_CASES;
        resp.search_cases = &sres;
    } else {
        res.n_cases = kept;
        res.cases = ptrs;
        res.next_page_token = token;
        resp.result_case = RITRA__RESPONSE__RESULT_LIST_CASES;
        resp.list_cases = &res;
    }
    request_reply(r, &resp);
    free(items);
    free(ptrs);
}

/* "L1~<timestamp>|<uuid>" as produced by listed(). */
static bool parse_token(const char *token, char *ts, size_t tslen, char *uuid, size_t uuidlen)
{
    const char *body, *bar;

    if (strncmp(token, LIST_TOKEN_PREFIX, strlen(LIST_TOKEN_PREFIX)) != 0)
        return false;
    body = token + strlen(LIST_TOKEN_PREFIX);
    bar = strchr(body, '|');
    if (bar == NULL || (size_t)(bar - body) >= tslen || strlen(bar + 1) >= uuidlen)
        return false;
    memcpy(ts, body, (size_t)(bar - body));
    ts[bar - body] = '\0';
    snprintf(uuid, uuidlen, "%s", bar + 1);
    return ops_uuid_valid(uuid) && ops_timestamp_valid(ts);
}

void op_list_cases(struct request *r)
{
    const Ritra__ListCasesRequest *m = request_msg(r)->list_cases;
    struct case_list_query q;
    struct field_errors fe;
    char ts[64], uuid[40], path[64];

    fe_init(&fe);
    memset(&q, 0, sizeof(q));
    for (size_t i = 0; i < m->n_status; i++) {
        snprintf(path, sizeof(path), "list_cases.status[%zu]", i);
        if (!picklist_valid(PICKLIST_CAS_STATUS, m->status[i]))
            fe_add(&fe, path, "not a cas_Status value");
    }
    for (size_t i = 0; i < m->n_handling_code; i++) {
        snprintf(path, sizeof(path), "list_cases.handling_code[%zu]", i);
        if (!picklist_valid(PICKLIST_HANDLING_CODE, m->handling_code[i]))
            fe_add(&fe, path, "not a handling code (H0..H3)");
    }
    if (m->n_status > 8 || m->n_handling_code > 8)
        fe_add(&fe, "list_cases", "at most 8 values per filter");
    if (*m->updated_since && !ops_timestamp_valid(m->updated_since))
        fe_add(&fe, "list_cases.updated_since", "expected RFC 3339 or YYYY-MM-DD");
    if (m->page_size > LIST_MAX_PAGE)
        fe_add(&fe, "list_cases.page_size", "at most %d", LIST_MAX_PAGE);
    if (*m->page_token && !parse_token(m->page_token, ts, sizeof(ts), uuid, sizeof(uuid)))
        fe_add(&fe, "list_cases.page_token", "not a token from a previous page");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    q.status = m->status;
    q.n_status = m->n_status;
    q.handling = m->handling_code;
    q.n_handling = m->n_handling_code;
    q.updated_since = *m->updated_since ? m->updated_since : NULL;
    q.after_updated = *m->page_token ? ts : NULL;
    q.after_case_id = *m->page_token ? uuid : NULL;
    q.limit = m->page_size ? (int)m->page_size : LIST_DEFAULT_PAGE;
    q.own_only = -1;
    case_store_list(server_db(request_server(r)), request_agency(r), &q, listed, r);
}

/* An event date filter: a full date only. */
static void check_day(struct field_errors *fe, const char *path, const char *s)
{
    const char *why = NULL;

    if (*s && (strlen(s) != 10 || !case_date_valid(s, false, time(NULL) + 366 * 86400, &why)))
        fe_add(fe, path, "expected a date YYYY-MM-DD");
}

void op_search_cases(struct request *r)
{
    const Ritra__SearchCasesRequest *m = request_msg(r)->search_cases;
    struct case_list_query q;
    struct field_errors fe;
    char ts[64], uuid[40], path[80];

    fe_init(&fe);
    memset(&q, 0, sizeof(q));
    for (size_t i = 0; i < m->n_vic_typeofexploitation; i++) {
        snprintf(path, sizeof(path), "search_cases.vic_TypeOfExploitation[%zu]", i);
        if (!picklist_valid(PICKLIST_TYPE_OF_EXPLOITATION, m->vic_typeofexploitation[i]))
            fe_add(&fe, path, "not a vic_TypeOfExploitation value");
    }
    for (size_t i = 0; i < m->n_status; i++) {
        snprintf(path, sizeof(path), "search_cases.status[%zu]", i);
        if (!picklist_valid(PICKLIST_CAS_STATUS, m->status[i]))
            fe_add(&fe, path, "not a cas_Status value");
    }
    for (size_t i = 0; i < m->n_handling_code; i++) {
        snprintf(path, sizeof(path), "search_cases.handling_code[%zu]", i);
        if (!picklist_valid(PICKLIST_HANDLING_CODE, m->handling_code[i]))
            fe_add(&fe, path, "not a handling code (H0..H3)");
    }
    if (m->n_status > 8 || m->n_handling_code > 8 || m->n_vic_typeofexploitation > 16)
        fe_add(&fe, "search_cases", "at most 8 values per filter (16 exploitation types)");
    if (*m->country && !picklist_country_valid(m->country))
        fe_add(&fe, "search_cases.country", "not an ISO 3166-1 alpha-2 code");
    validate_text(&fe, "search_cases.city", m->city, 100, false, false);
    check_day(&fe, "search_cases.date_from", m->date_from);
    check_day(&fe, "search_cases.date_to", m->date_to);
    if (*m->date_from && *m->date_to && strcmp(m->date_from, m->date_to) > 0)
        fe_add(&fe, "search_cases.date_to", "before date_from");
    if (m->page_size > LIST_MAX_PAGE)
        fe_add(&fe, "search_cases.page_size", "at most %d", LIST_MAX_PAGE);
    if (*m->page_token && !parse_token(m->page_token, ts, sizeof(ts), uuid, sizeof(uuid)))
        fe_add(&fe, "search_cases.page_token", "not a token from a previous page");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_detail(request_audit(r), "country", m->country);
    audit_note_detail(request_audit(r), "city", m->city);
    audit_note_detail(request_audit(r), "date_from", m->date_from);
    audit_note_detail(request_audit(r), "date_to", m->date_to);
    q.status = m->status;
    q.n_status = m->n_status;
    q.handling = m->handling_code;
    q.n_handling = m->n_handling_code;
    q.exploitation = m->vic_typeofexploitation;
    q.n_exploitation = m->n_vic_typeofexploitation;
    q.event_country = *m->country ? m->country : NULL;
    q.event_city = *m->city ? m->city : NULL;
    q.event_from = *m->date_from ? m->date_from : NULL;
    q.event_to = *m->date_to ? m->date_to : NULL;
    q.after_updated = *m->page_token ? ts : NULL;
    q.after_case_id = *m->page_token ? uuid : NULL;
    q.limit = m->page_size ? (int)m->page_size : LIST_DEFAULT_PAGE;
    q.own_only = -1;
    case_store_list(server_db(request_server(r)), request_agency(r), &q, listed, r);
}
