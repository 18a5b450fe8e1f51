/*
 * ritra search: find persons (ranked identities) and cases; and ritra case
 * matches, what the matcher made of one case's persons (docs/search.md,
 * docs/matching.md).
 *
 * Output formats are stable; scripts may rely on them. Every line of
 * output is one JSON object (pbjson's form: the message's field names,
 * defaults left out), with or without --json.
 *
 * search person (--name TEXT | --given TEXT [--surnames TEXT] | --surnames TEXT)
 *               [--birth-date YYYY[-MM[-DD]]] [--document NUMBER
 *               [--document-type T]] [--citizenship CC] [--role R]...
 *               [--page-size N] [--page-token T] [--all]
 *   One IdentityMatch per line, best first, with the identity's records
 *   as far as we may see them (HIT records: the CaseHit, no person), e.g.
 *     {"identity_id":"...","score":61.2,"match_class":"MATCH",
 *      "explanation":[{"field":"given","level":"PARTIAL","weight":1.0},...],
 *      "records":[{"person_id":"...","case_id":"...","owner_agency":"FGN",
 *                  "visibility":"HIT","hit":{...},"identity_id":"..."},...]}
 *   A name or a document number is required. When more pages remain and
 *   --all is not given, stderr receives (quoted for the shell)
 *       ritra: more identities: --page-token 'TOKEN'
 *   (repeat the same query with it).
 *
 * search cases [--exploitation T]... [--country CC] [--city C] [--from DATE]
 *              [--to DATE] [--status S]... [--handling H]...
 *              [--page-size N] [--page-token T] [--all]
 *   One CaseSummary per line, as `case list --json` prints them; more
 *   pages: "ritra: more cases: --page-token 'TOKEN'" on stderr.
 *
 * case matches CASE_ID
 *   The CaseMatchesResult: each person's link (identity, state PENDING |
 *   NEW | LINKED, how, score, candidates waiting for review) and the
 *   related cases of other agencies at our level on them. Indented; with
 *   --json on one line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The server's limits, checked here for a clear message first. */
#define MAX_ROLES        4
#define MAX_EXPLOITATION 16
#define MAX_STATUS       8
#define MAX_HANDLING     8
#define PERSON_MAX_PAGE  50
#define CASES_MAX_PAGE   500

/* Flag values; these flags have no short form. */
enum {
    F_NAME = 1,
    F_GIVEN,
    F_SURNAMES,
    F_BIRTH_DATE,
    F_DOCUMENT,
    F_DOCUMENT_TYPE,
    F_CITIZENSHIP,
    F_ROLE,
    F_EXPLOITATION,
    F_COUNTRY,
    F_CITY,
    F_FROM,
    F_TO,
    F_STATUS,
    F_HANDLING,
};

/* ---- checking values ---- */

static int in_list(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* YYYY, YYYY-MM or YYYY-MM-DD (only the last when day is set), a real
 * calendar date. */
static int date_valid(const char *s, int day)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(s);
    int y, m, d;

    if (!(len == 10 || (!day && (len == 4 || len == 7))) || !digits(s, 4))
        return 0;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (y < 1000)
        return 0;
    if (len == 4)
        return 1;
    if (s[4] != '-' || !digits(s + 5, 2))
        return 0;
    m = (s[5] - '0') * 10 + (s[6] - '0');
    if (m < 1 || m > 12)
        return 0;
    if (len == 7)
        return 1;
    if (s[7] != '-' || !digits(s + 8, 2))
        return 0;
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m == 2 && d == 29)
        return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return d >= 1 && d <= mdays[m - 1];
}

/* An ISO 3166-1 alpha-2 code, upper-cased into out[3]; -1 after a usage
 * error naming flag. */
static int country_code(const char *flag, const char *s, char out[3])
{
    if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1])) {
        cli_usage_error("%s wants a two-letter country code (ISO 3166-1, e.g. CO), not \"%s\"",
                        flag, s);
        return -1;
    }
    out[0] = (char)toupper((unsigned char)s[0]);
    out[1] = (char)toupper((unsigned char)s[1]);
    out[2] = '\0';
    return 0;
}

/* A text flag may not be empty: "" would silently search for everything. */
static int text_flag(const char *flag, const char *s, const char **out)
{
    if (s[0] == '\0') {
        cli_usage_error("%s wants a value, not an empty string", flag);
        return -1;
    }
    *out = s;
    return 0;
}

/* ---- search person ---- */

static int person_page(struct cli *g, struct ritra_conn *c, void *query, const char *token,
                       Ritra__Response **resp, const char **next)
{
    Ritra__SearchPersonsRequest *q = query;
    const Ritra__SearchPersonsResult *res;
    struct ritra_error err;

    (void)g;
    q->page_token = (char *)token;
    if (ritra_search_persons(c, q, resp, &err) < 0)
        return cli_report(&err);
    res = (*resp)->search_persons;
    for (size_t i = 0; i < res->n_identities; i++) {
        int rc = cli_print_message(&res->identities[i]->base, 0, "identities", i);

        if (rc != CLI_EXIT_OK)
            return rc;
    }
    *next = res->next_page_token;
    return CLI_EXIT_OK;
}

static int search_person(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"name", required_argument, NULL, F_NAME},
        {"given", required_argument, NULL, F_GIVEN},
        {"surnames", required_argument, NULL, F_SURNAMES},
        {"birth-date", required_argument, NULL, F_BIRTH_DATE},
        {"document", required_argument, NULL, F_DOCUMENT},
        {"document-type", required_argument, NULL, F_DOCUMENT_TYPE},
        {"citizenship", required_argument, NULL, F_CITIZENSHIP},
        {"role", required_argument, NULL, F_ROLE},
        CLI_PAGING_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    static const char *const roles[] = {"Victim", "Suspect", "Witness", "Other", NULL};
    static const char *const doc_types[] = {
        "NationalId", "Passport",       "ForeignerId", "BirthCertificate",
        "TaxId",      "DrivingLicence", "Other",       NULL,
    };
    static const struct cli_pager pager = {"identities", person_page};
    Ritra__SearchPersonsRequest q = RITRA__SEARCH_PERSONS_REQUEST__INIT;
    struct cli_paging paging = {.max_size = PERSON_MAX_PAGE};
    const char *name = NULL, *given = NULL, *surnames = NULL, *birth = NULL, *doc = NULL;
    const char *doc_type = NULL;
    char *role[MAX_ROLES], cc[3] = "";
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        int taken = cli_paging_flag(&paging, ch, optarg);

        if (taken < 0)
            return CLI_EXIT_USAGE;
        if (taken > 0)
            continue;
        switch (ch) {
        case F_NAME:
            rc = text_flag("--name", optarg, &name);
            break;
        case F_GIVEN:
            rc = text_flag("--given", optarg, &given);
            break;
        case F_SURNAMES:
            rc = text_flag("--surnames", optarg, &surnames);
            break;
        case F_BIRTH_DATE:
            birth = optarg;
            rc = date_valid(birth, 0) ? 0
                                      : cli_usage_error("--birth-date wants YYYY, YYYY-MM or "
                                                        "YYYY-MM-DD, not \"%s\"",
                                                        birth);
            break;
        case F_DOCUMENT:
            rc = text_flag("--document", optarg, &doc);
            break;
        case F_DOCUMENT_TYPE:
            doc_type = optarg;
            rc = in_list(doc_type, doc_types)
                     ? 0
                     : cli_usage_error("--document-type wants NationalId, Passport, ForeignerId, "
                                       "BirthCertificate, TaxId, DrivingLicence or Other, "
                                       "not \"%s\"",
                                       doc_type);
            break;
        case F_CITIZENSHIP:
            rc = country_code("--citizenship", optarg, cc);
            break;
        case F_ROLE:
            if (!in_list(optarg, roles))
                return cli_usage_error("--role wants Victim, Suspect, Witness or Other, not \"%s\"",
                                       optarg);
            rc = cli_repeat(role, &q.n_role, MAX_ROLES, "--role", optarg);
            break;
        default:
            return cli_other_flag("search", ch);
        }
        if (rc != 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("search person takes no arguments, got \"%s\"", argv[optind]);
    if (name != NULL && (given != NULL || surnames != NULL))
        return cli_usage_error("search person wants either --name or --given/--surnames, "
                               "not both");
    if (name == NULL && given == NULL && surnames == NULL && doc == NULL)
        return cli_usage_error("search person wants a name (--name, or --given and --surnames) "
                               "or --document NUMBER");
    if (doc_type != NULL && doc == NULL)
        return cli_usage_error("--document-type goes with --document NUMBER");
    q.name = (char *)(name ? name : "");
    q.given_names = (char *)(given ? given : "");
    q.surnames = (char *)(surnames ? surnames : "");
    q.birth_date = (char *)(birth ? birth : "");
    q.document_number = (char *)(doc ? doc : "");
    q.document_type = (char *)(doc_type ? doc_type : "");
    q.citizenship = cc;
    q.role = role;
    q.page_size = paging.size;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    rc = cli_pages(g, c, &pager, &q, &paging);
    ritra_close(c);
    return rc;
}

/* ---- search cases ---- */

static int cases_page(struct cli *g, struct ritra_conn *c, void *query, const char *token,
                      Ritra__Response **resp, const char **next)
{
    Ritra__SearchCasesRequest *q = query;
    const Ritra__SearchCasesResult *res;
    struct ritra_error err;

    (void)g;
    q->page_token = (char *)token;
    if (ritra_search_cases(c, q, resp, &err) < 0)
        return cli_report(&err);
    res = (*resp)->search_cases;
    for (size_t i = 0; i < res->n_cases; i++) {
        int rc = cli_print_message(&res->cases[i]->base, 0, "cases", i);

        if (rc != CLI_EXIT_OK)
            return rc;
    }
    *next = res->next_page_token;
    return CLI_EXIT_OK;
}

static int search_cases(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"exploitation", required_argument, NULL, F_EXPLOITATION},
        {"country", required_argument, NULL, F_COUNTRY},
        {"city", required_argument, NULL, F_CITY},
        {"from", required_argument, NULL, F_FROM},
        {"to", required_argument, NULL, F_TO},
        {"status", required_argument, NULL, F_STATUS},
        {"handling", required_argument, NULL, F_HANDLING},
        CLI_PAGING_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    static const char *const statuses[] = {
        "Active", "FollowUp", "Closed", "ClosedReferred", "Withdrawn", NULL,
    };
    static const char *const handling_codes[] = {"H0", "H1", "H2", "H3", NULL};
    static const struct cli_pager pager = {"cases", cases_page};
    Ritra__SearchCasesRequest q = RITRA__SEARCH_CASES_REQUEST__INIT;
    struct cli_paging paging = {.max_size = CASES_MAX_PAGE};
    char *exploitation[MAX_EXPLOITATION], *status[MAX_STATUS], *handling[MAX_HANDLING];
    char cc[3] = "";
    const char *city = NULL, *from = NULL, *to = NULL;
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        int taken = cli_paging_flag(&paging, ch, optarg);

        if (taken < 0)
            return CLI_EXIT_USAGE;
        if (taken > 0)
            continue;
        switch (ch) {
        case F_EXPLOITATION:
            rc = cli_repeat(exploitation, &q.n_vic_typeofexploitation, MAX_EXPLOITATION,
                            "--exploitation", optarg);
            break;
        case F_COUNTRY:
            rc = country_code("--country", optarg, cc);
            break;
        case F_CITY:
            rc = text_flag("--city", optarg, &city);
            break;
        case F_FROM:
        case F_TO:
            if (!date_valid(optarg, 1))
                return cli_usage_error("%s wants a date YYYY-MM-DD, not \"%s\"",
                                       ch == F_FROM ? "--from" : "--to", optarg);
            if (ch == F_FROM)
                from = optarg;
            else
                to = optarg;
            rc = 0;
            break;
        case F_STATUS:
            if (!in_list(optarg, statuses))
                return cli_usage_error("--status wants Active, FollowUp, Closed, ClosedReferred "
                                       "or Withdrawn, not \"%s\"",
                                       optarg);
            rc = cli_repeat(status, &q.n_status, MAX_STATUS, "--status", optarg);
            break;
        case F_HANDLING:
            if (!in_list(optarg, handling_codes))
                return cli_usage_error("--handling wants H0, H1, H2 or H3, not \"%s\"", optarg);
            rc = cli_repeat(handling, &q.n_handling_code, MAX_HANDLING, "--handling", optarg);
            break;
        default:
            return cli_other_flag("search", ch);
        }
        if (rc != 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("search cases takes no arguments, got \"%s\"", argv[optind]);
    /* Both are YYYY-MM-DD: the strings compare as the dates do. */
    if (from != NULL && to != NULL && strcmp(from, to) > 0)
        return cli_usage_error("--to %s is before --from %s", to, from);
    q.vic_typeofexploitation = exploitation;
    q.country = cc;
    q.city = (char *)(city ? city : "");
    q.date_from = (char *)(from ? from : "");
    q.date_to = (char *)(to ? to : "");
    q.status = status;
    q.handling_code = handling;
    q.page_size = paging.size;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    rc = cli_pages(g, c, &pager, &q, &paging);
    ritra_close(c);
    return rc;
}

/* ---- the search command ---- */

static int run_search(struct cli *g, int argc, char **argv)
{
    static const struct cli_sub subs[] = {
        {"person", search_person},
        {"cases", search_cases},
    };

    return cli_dispatch(g, argc, argv, "search", subs, sizeof(subs) / sizeof(subs[0]));
}

const struct cli_command cli_search_command = {
    "search",
    run_search,
    "  search person           find a person: ranked identities, one JSON line each\n"
    "  search cases            find cases by exploitation, place, dates, status\n",
    "usage: ritra [flags] search person (--name TEXT | --given TEXT --surnames TEXT)\n"
    "                                   [--birth-date YYYY[-MM[-DD]]]\n"
    "                                   [--document NUMBER [--document-type T]]\n"
    "                                   [--citizenship CC] [--role R]...\n"
    "                                   [--page-size N] [--page-token T] [--all]\n"
    "       ritra [flags] search cases [--exploitation T]... [--country CC] [--city C]\n"
    "                                  [--from DATE] [--to DATE] [--status S]...\n"
    "                                  [--handling H]... [--page-size N]\n"
    "                                  [--page-token T] [--all]\n"
    "\n"
    "Both print one JSON object per line (with or without --json). When more\n"
    "pages remain and --all is not given, stderr names the next one:\n"
    "  ritra: more identities: --page-token 'TOKEN'   (or: more cases)\n"
    "\n"
    "person  one IdentityMatch per line, best first: the identity, its score and\n"
    "        match class, the agreeing fields, and its records as far as we may\n"
    "        see them (a record at HIT visibility shows only the case's hit)\n"
    "  --name TEXT            the full name, given names first\n"
    "                         (\"María José Muñoz de la Cruz\")\n"
    "  --given TEXT           or the given names and\n"
    "  --surnames TEXT        the surnames apart\n"
    "  --birth-date D         YYYY, YYYY-MM or YYYY-MM-DD\n"
    "  --document NUMBER      an identity document's number\n"
    "  --document-type T      NationalId, Passport, ForeignerId, BirthCertificate,\n"
    "                         TaxId, DrivingLicence or Other\n"
    "  --citizenship CC       ISO 3166-1 alpha-2 country code\n"
    "  --role R               only Victim, Suspect, Witness or Other (repeatable)\n"
    "  --page-size N          identities per request, 1 to 50 (server default 10)\n"
    "  --page-token T         continue an earlier search (give the same query)\n"
    "  --all                  follow the pages to the end\n"
    "  A name or --document is required.\n"
    "cases   one CaseSummary per line, as case list --json prints them\n"
    "  --exploitation T       a vic_TypeOfExploitation value (repeatable: any)\n"
    "  --country CC           an event took place in this country (alpha-2)\n"
    "  --city C               an event took place in this city (any case)\n"
    "  --from DATE            an event on or after DATE (YYYY-MM-DD)\n"
    "  --to DATE              an event on or before DATE (YYYY-MM-DD)\n"
    "  --status S             only cases with cas_Status S (repeatable)\n"
    "  --handling H           only cases with handling code H (repeatable)\n"
    "  --page-size N          cases per request, 1 to 500 (server default 100)\n"
    "  --page-token T         continue from where an earlier search stopped\n"
    "  --all                  follow the pages to the end\n",
};

/* ---- case matches ---- */

static int case_matches(struct cli *g, int argc, char **argv)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int ch, rc;

    /* No flags of its own: cli_getopt returns only for --help and errors. */
    ch = cli_getopt(g, argc, argv, ":", NULL);
    if (ch != -1)
        return cli_other_flag("case matches", ch);
    if (argc - optind != 1 || argv[optind][0] == '\0')
        return cli_usage_error("case matches wants one CASE_ID");
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_case_matches(c, argv[optind], &resp, &err) < 0)
        rc = cli_report(&err);
    else
        rc = cli_print_message(&resp->case_matches->base, !g->json, "case_matches", CLI_NO_INDEX);
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

const struct cli_command cli_case_matches_command = {
    "case matches",
    case_matches,
    "  case matches CASE_ID    how a case's persons are linked, and the related cases\n",
    "usage: ritra [flags] case matches CASE_ID\n"
    "\n"
    "matches prints what the matcher made of the persons of a case we may read\n"
    "        (RESTRICTED or above), as indented JSON (--json: one line): for\n"
    "        each person its identity_id, state (PENDING: not matched yet, NEW:\n"
    "        an identity of its own, LINKED: joined to others), linked_by (new,\n"
    "        auto, confirm, merge, unmerge), score and review_pending; then the\n"
    "        related cases of other agencies, at our level on them (HIT: the\n"
    "        case's hit only).\n",
};
