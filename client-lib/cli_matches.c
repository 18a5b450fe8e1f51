/*
 * ritra matches: the review queue of person pairs the matcher could not
 * decide alone, and the decisions on identities (docs/search.md,
 * docs/matching.md). Every decision needs a reason; the server records it
 * with the decision and in the audit trail.
 *
 * Output formats are stable; scripts may rely on them. Server text is
 * printed with control characters replaced by '?'.
 *
 * matches list [--status PENDING|CONFIRMED|REJECTED|ALL] [--case UUID]
 *              [--page-size N] [--page-token T] [--all]
 *   One MatchCandidate per line as JSON (with or without --json): our
 *   record ("own") and the other one ("other") at our level on its case
 *   (HIT: the case's hit only; then the score is left out and the
 *   explanation names the agreeing fields only). More pages:
 *       ritra: more candidates: --page-token 'TOKEN'
 *   on stderr, quoted for the shell.
 *
 * matches confirm|reject CANDIDATE_ID --reason TEXT
 *   CANDIDATE_ID STATUS IDENTITY_ID; --json: the DecideMatchResult.
 * matches merge IDENTITY_ID OTHER_IDENTITY_ID --reason TEXT
 *   IDENTITY_ID RECORDS_MOVED; --json: the MergeIdentitiesResult.
 * matches unmerge PERSON_ID --reason TEXT
 *   PERSON_ID IDENTITY_ID PREVIOUS_IDENTITY_ID; --json: the
 *   UnmergePersonResult.
 * "-" stands for an empty value.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define MATCHES_MAX_PAGE 200
#define REASON_MAX       1000 /* bytes, as the server allows */

/* Flag values; these flags have no short form. */
enum {
    F_STATUS = 1,
    F_CASE,
    F_REASON,
};

/* ---- list ---- */

static int candidates_page(struct cli *g, struct ritra_conn *c, void *query, const char *token,
                           Ritra__Response **resp, const char **next)
{
    Ritra__ListMatchesRequest *q = query;
    const Ritra__ListMatchesResult *res;
    struct ritra_error err;

    (void)g;
    q->page_token = (char *)token;
    if (ritra_list_matches(c, q, resp, &err) < 0)
        return cli_report(&err);
    res = (*resp)->list_matches;
    for (size_t i = 0; i < res->n_candidates; i++) {
        int rc = cli_print_message(&res->candidates[i]->base, 0, "candidates", i);

        if (rc != CLI_EXIT_OK)
            return rc;
    }
    *next = res->next_page_token;
    return CLI_EXIT_OK;
}

static int matches_list(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"status", required_argument, NULL, F_STATUS},
        {"case", required_argument, NULL, F_CASE},
        CLI_PAGING_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    static const char *const statuses[] = {"PENDING", "CONFIRMED", "REJECTED", "ALL"};
    static const struct cli_pager pager = {"candidates", candidates_page};
    Ritra__ListMatchesRequest q = RITRA__LIST_MATCHES_REQUEST__INIT;
    struct cli_paging paging = {.max_size = MATCHES_MAX_PAGE};
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        int taken = cli_paging_flag(&paging, ch, optarg);

        if (taken < 0)
            return CLI_EXIT_USAGE;
        if (taken > 0)
            continue;
        switch (ch) {
        case F_STATUS:
            /* Any case on the command line; the protocol's spelling on the wire. */
            q.status = NULL;
            for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
                if (strcasecmp(optarg, statuses[i]) == 0)
                    q.status = (char *)statuses[i];
            if (q.status == NULL)
                return cli_usage_error(
                    "--status wants PENDING, CONFIRMED, REJECTED or ALL, not \"%s\"", optarg);
            break;
        case F_CASE:
            if (optarg[0] == '\0')
                return cli_usage_error("--case wants a case id, not an empty string");
            q.case_id = optarg;
            break;
        default:
            return cli_other_flag("matches", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("matches list takes no arguments, got \"%s\"", argv[optind]);
    q.page_size = paging.size;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    rc = cli_pages(g, c, &pager, &q, &paging);
    ritra_close(c);
    return rc;
}

/* ---- decisions ---- */

/* The flags of a decision: --reason only. Leaves the ids in
 * argv[optind..argc); returns -1 when it ran, with *rc its exit status. */
static int decision_flags(struct cli *g, int argc, char **argv, const char **reason, int *rc)
{
    static const struct option options[] = {
        {"reason", required_argument, NULL, F_REASON},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch != F_REASON) {
            *rc = cli_other_flag("matches", ch);
            return -1;
        }
        *reason = optarg;
    }
    return 0;
}

/* The reason is what the audit trail keeps of why: it must be stated. */
static int check_reason(const char *sub, const char *reason)
{
    const char *p = reason;

    while (p != NULL && isspace((unsigned char)*p))
        p++;
    if (p == NULL || *p == '\0')
        return cli_usage_error("matches %s wants --reason TEXT (why; it is recorded and audited)",
                               sub);
    if (strlen(reason) > REASON_MAX)
        return cli_usage_error("--reason is longer than %d bytes", REASON_MAX);
    return CLI_EXIT_OK;
}

/* Prints the fields of a result on one line, "-" for an empty one, or
 * with --json the result itself. */
static int print_result(struct cli *g, const ProtobufCMessage *result, const char *what,
                        const char *const *fields, size_t n)
{
    if (g->json)
        return cli_print_message(result, 0, what, CLI_NO_INDEX);
    for (size_t i = 0; i < n; i++) {
        char buf[256];

        printf("%s%s", i ? " " : "", cli_clean(buf, sizeof(buf), fields[i][0] ? fields[i] : "-"));
    }
    putchar('\n');
    return ferror(stdout) ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
}

static int decide(struct cli *g, int argc, char **argv, int confirm)
{
    const char *reason = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int rc;

    if (decision_flags(g, argc, argv, &reason, &rc) < 0)
        return rc;
    if (argc - optind != 1 || argv[optind][0] == '\0')
        return cli_usage_error("matches %s wants one CANDIDATE_ID", argv[0]);
    if ((rc = check_reason(argv[0], reason)) != CLI_EXIT_OK)
        return rc;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_decide_match(c, argv[optind], confirm, reason, &resp, &err) < 0) {
        rc = cli_report(&err);
    } else {
        const Ritra__DecideMatchResult *d = resp->decide_match;
        const char *fields[] = {d->candidate_id, d->status, d->identity_id};

        rc = print_result(g, &d->base, "decide_match", fields, 3);
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

static int matches_confirm(struct cli *g, int argc, char **argv)
{
    return decide(g, argc, argv, 1);
}

static int matches_reject(struct cli *g, int argc, char **argv)
{
    return decide(g, argc, argv, 0);
}

static int matches_merge(struct cli *g, int argc, char **argv)
{
    const char *reason = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int rc;

    if (decision_flags(g, argc, argv, &reason, &rc) < 0)
        return rc;
    if (argc - optind != 2 || argv[optind][0] == '\0' || argv[optind + 1][0] == '\0')
        return cli_usage_error("matches merge wants IDENTITY_ID OTHER_IDENTITY_ID");
    if (strcasecmp(argv[optind], argv[optind + 1]) == 0)
        return cli_usage_error("matches merge wants two different identities");
    if ((rc = check_reason("merge", reason)) != CLI_EXIT_OK)
        return rc;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_merge_identities(c, argv[optind], argv[optind + 1], reason, &resp, &err) < 0) {
        rc = cli_report(&err);
    } else {
        const Ritra__MergeIdentitiesResult *m = resp->merge_identities;
        char moved[16];
        const char *fields[] = {m->identity_id, moved};

        snprintf(moved, sizeof(moved), "%u", m->records_moved);
        rc = print_result(g, &m->base, "merge_identities", fields, 2);
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

static int matches_unmerge(struct cli *g, int argc, char **argv)
{
    const char *reason = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int rc;

    if (decision_flags(g, argc, argv, &reason, &rc) < 0)
        return rc;
    if (argc - optind != 1 || argv[optind][0] == '\0')
        return cli_usage_error("matches unmerge wants one PERSON_ID");
    if ((rc = check_reason("unmerge", reason)) != CLI_EXIT_OK)
        return rc;
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_unmerge_person(c, argv[optind], reason, &resp, &err) < 0) {
        rc = cli_report(&err);
    } else {
        const Ritra__UnmergePersonResult *u = resp->unmerge_person;
        const char *fields[] = {u->person_id, u->identity_id, u->previous_identity_id};

        rc = print_result(g, &u->base, "unmerge_person", fields, 3);
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

/* ---- the command ---- */

static int run_matches(struct cli *g, int argc, char **argv)
{
    static const struct cli_sub subs[] = {
        {"list", matches_list},   {"confirm", matches_confirm}, {"reject", matches_reject},
        {"merge", matches_merge}, {"unmerge", matches_unmerge},
    };

    return cli_dispatch(g, argc, argv, "matches", subs, sizeof(subs) / sizeof(subs[0]));
}

const struct cli_command cli_matches_command = {
    "matches",
    run_matches,
    "  matches list            the review queue: candidate pairs, one JSON line each\n"
    "  matches confirm|reject  decide a candidate pair\n"
    "  matches merge|unmerge   join two identities, or take a record out of one\n",
    "usage: ritra [flags] matches list [--status PENDING|CONFIRMED|REJECTED|ALL]\n"
    "                                  [--case UUID] [--page-size N]\n"
    "                                  [--page-token T] [--all]\n"
    "       ritra [flags] matches confirm CANDIDATE_ID --reason TEXT\n"
    "       ritra [flags] matches reject CANDIDATE_ID --reason TEXT\n"
    "       ritra [flags] matches merge IDENTITY_ID OTHER_IDENTITY_ID --reason TEXT\n"
    "       ritra [flags] matches unmerge PERSON_ID --reason TEXT\n"
    "\n"
    "list    one MatchCandidate per line as JSON (with or without --json): pairs\n"
    "        of person records, one of them ours, that may be one person; the\n"
    "        other record at our level on its case (HIT: the case's hit only)\n"
    "  --status S             PENDING (the default), CONFIRMED, REJECTED or ALL\n"
    "  --case UUID            only pairs involving this case\n"
    "  --page-size N          candidates per request, 1 to 200 (server default 50)\n"
    "  --page-token T         continue from where an earlier list stopped\n"
    "  --all                  follow the pages to the end\n"
    "confirm the two records are one person: their identities become one;\n"
    "        prints CANDIDATE_ID STATUS IDENTITY_ID\n"
    "reject  they are two people, and the matcher keeps them apart from now on;\n"
    "        prints CANDIDATE_ID STATUS IDENTITY_ID\n"
    "merge   moves the records of OTHER_IDENTITY_ID into IDENTITY_ID (one of them\n"
    "        must hold a record of ours); prints IDENTITY_ID RECORDS_MOVED\n"
    "unmerge takes one of our person records out of its identity into a new one\n"
    "        and keeps it apart from the others; prints PERSON_ID IDENTITY_ID\n"
    "        PREVIOUS_IDENTITY_ID\n"
    "  --reason TEXT          why; required for every decision, recorded and\n"
    "                         audited (up to 1000 bytes)\n"
    "\n"
    "--json prints the decision's result as one JSON object instead.\n",
};
