/*
 * ritra share: offer a case to another agency, answer an offer, withdraw
 * a grant, and list the grants given and received (docs/access.md has the
 * rules these follow).
 *
 * Output formats are stable; scripts may rely on them (--json is the
 * machine-readable form). Server text is printed with control characters
 * replaced by '?'.
 *
 * Every subcommand prints grants, one line each, columns separated by at
 * least two spaces, "-" for an empty value, the purpose last (it may hold
 * spaces):
 *     GRANT_ID CASE_ID FROM TO LEVEL STATE EXPIRES PURPOSE
 * FROM is the granting agency's code; TO the receiving agency's code, or
 * "kind:KIND" for a grant to every agency of a kind ("kind:police").
 * With --json, one Grant object per line instead (its field names,
 * defaults left out), e.g.
 *     {"grant_id":"...","case_id":"...","grantor_agency":"FGN",
 *      "grantee_agency":"PONAL","level":"FULL","purpose":"...",
 *      "state":"offered","created_at":"...","updated_at":"..."}
 *
 * share case --id UUID (--to AGENCY | --to-kind KIND) --level LEVEL
 *            --purpose TEXT [--expires RFC3339]
 *   The new grant (offered; a grant to a kind is accepted at once).
 * share accept|reject GRANT_ID [--reason TEXT]
 * share revoke GRANT_ID [--reason TEXT]
 *   The grant as it now stands.
 * share list (--given | --received) [--state S]... [--case UUID]
 *            [--page-size N] [--page-token T] [--all]
 *   A header line (not with --json), then the grants. When more pages
 *   remain and --all is not given, stderr receives (quoted for the shell)
 *       ritra: more grants: --page-token 'TOKEN'
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pbjson.h"

/* Flag values; these flags have no short form. */
enum {
    F_ID = 1,
    F_TO,
    F_TO_KIND,
    F_LEVEL,
    F_PURPOSE,
    F_EXPIRES,
    F_REASON,
    F_GIVEN,
    F_RECEIVED,
    F_STATE,
    F_CASE,
    F_PAGE_SIZE,
    F_PAGE_TOKEN,
    F_ALL,
};

#define GRANT_LINE_FORMAT "%-36s  %-36s  %-12s  %-18s  %-10s  %-8s  %-25s  %s\n"

/* ---- printing grants ---- */

static int print_grant(struct cli *g, const Ritra__Grant *gr)
{
    char id[64], cid[64], from[64], to[80], level[32], state[32], exp[64], purpose[2048];
    struct json_object *j = NULL;
    struct pbjson_error pe;

    if (g->json) {
        if (pbjson_from_message(&gr->base, &j, &pe) < 0) {
            fprintf(stderr, "ritra: PROTOCOL: the server's grant cannot be shown: %s: %s\n",
                    pe.path, pe.reason);
            return CLI_EXIT_INTERNAL;
        }
        return cli_print_json(j, 0);
    }
    if (gr->grantee_agency[0] != '\0') {
        cli_clean(to, sizeof(to), gr->grantee_agency);
    } else if (gr->grantee_kind[0] != '\0') {
        char kind[64];

        snprintf(to, sizeof(to), "kind:%s", cli_clean(kind, sizeof(kind), gr->grantee_kind));
    } else {
        snprintf(to, sizeof(to), "-");
    }
    printf(GRANT_LINE_FORMAT, cli_clean(id, sizeof(id), gr->grant_id[0] ? gr->grant_id : "-"),
           cli_clean(cid, sizeof(cid), gr->case_id[0] ? gr->case_id : "-"),
           cli_clean(from, sizeof(from), gr->grantor_agency[0] ? gr->grantor_agency : "-"), to,
           cli_clean(level, sizeof(level), gr->level[0] ? gr->level : "-"),
           cli_clean(state, sizeof(state), gr->state[0] ? gr->state : "-"),
           cli_clean(exp, sizeof(exp), gr->expires_at[0] ? gr->expires_at : "-"),
           cli_clean(purpose, sizeof(purpose), gr->purpose[0] ? gr->purpose : "-"));
    return ferror(stdout) ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
}

/* ---- case ---- */

static int share_case(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"id", required_argument, NULL, F_ID},
        {"to", required_argument, NULL, F_TO},
        {"to-kind", required_argument, NULL, F_TO_KIND},
        {"level", required_argument, NULL, F_LEVEL},
        {"purpose", required_argument, NULL, F_PURPOSE},
        {"expires", required_argument, NULL, F_EXPIRES},
        {NULL, 0, NULL, 0},
    };
    const char *id = NULL, *to = NULL, *kind = NULL, *level = NULL, *purpose = NULL;
    const char *expires = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        switch (ch) {
        case F_ID:
            id = optarg;
            break;
        case F_TO:
            to = optarg;
            break;
        case F_TO_KIND:
            kind = optarg;
            break;
        case F_LEVEL:
            level = optarg;
            break;
        case F_PURPOSE:
            purpose = optarg;
            break;
        case F_EXPIRES:
            expires = optarg;
            break;
        default:
            return cli_other_flag("share", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("share case takes no arguments, got \"%s\"", argv[optind]);
    if (id == NULL)
        return cli_usage_error("share case wants --id UUID");
    if ((to == NULL) == (kind == NULL))
        return cli_usage_error("share case wants either --to AGENCY or --to-kind KIND");
    if (level == NULL)
        return cli_usage_error("share case wants --level HIT|RESTRICTED|FULL");
    /* The purpose is the recipient's justification and goes into the
     * audit trail: it must be stated, not defaulted. */
    if (purpose == NULL || purpose[0] == '\0')
        return cli_usage_error("share case wants --purpose TEXT (why the recipient needs it)");
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_share_case(c, id, to, kind, level, purpose, expires, &resp, &err) < 0)
        rc = cli_report(&err);
    else
        rc = print_grant(g, resp->share_case->grant);
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

/* ---- accept, reject, revoke ---- */

enum grant_action { ACT_ACCEPT, ACT_REJECT, ACT_REVOKE };

static int grant_transition(struct cli *g, int argc, char **argv, enum grant_action act)
{
    static const struct option options[] = {
        {"reason", required_argument, NULL, F_REASON},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL;
    const Ritra__Grant *gr;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_REASON)
            reason = optarg;
        else
            return cli_other_flag("share", ch);
    }
    if (argc - optind != 1)
        return cli_usage_error("share %s wants one GRANT_ID", argv[0]);
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (act == ACT_REVOKE)
        rc = ritra_revoke_share(c, argv[optind], reason, &resp, &err);
    else
        rc = ritra_respond_to_share(c, argv[optind], act == ACT_ACCEPT, reason, &resp, &err);
    if (rc < 0) {
        rc = cli_report(&err);
    } else {
        gr = act == ACT_REVOKE ? resp->revoke_share->grant : resp->respond_to_share->grant;
        rc = print_grant(g, gr);
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

static int share_accept(struct cli *g, int argc, char **argv)
{
    return grant_transition(g, argc, argv, ACT_ACCEPT);
}

static int share_reject(struct cli *g, int argc, char **argv)
{
    return grant_transition(g, argc, argv, ACT_REJECT);
}

static int share_revoke(struct cli *g, int argc, char **argv)
{
    return grant_transition(g, argc, argv, ACT_REVOKE);
}

/* ---- list ---- */

/* "ritra: more grants: --page-token 'TOKEN'", quoted for the shell. */
static void print_more(const char *next)
{
    char clean[512];

    fputs("ritra: more grants: --page-token '", stderr);
    for (const char *p = cli_clean(clean, sizeof(clean), next); *p != '\0'; p++) {
        if (*p == '\'')
            fputs("'\\''", stderr);
        else
            putc(*p, stderr);
    }
    fputs("'\n", stderr);
}

/* Pages through ListShares; q is the first page's query. */
static int list_pages(struct cli *g, struct ritra_conn *c, Ritra__ListSharesRequest *q, int all)
{
    char *token = NULL;
    int rc = CLI_EXIT_OK;

    if (!g->json)
        printf(GRANT_LINE_FORMAT, "GRANT_ID", "CASE_ID", "FROM", "TO", "LEVEL", "STATE", "EXPIRES",
               "PURPOSE");
    for (;;) {
        Ritra__Response *resp = NULL;
        const Ritra__ListSharesResult *res;
        struct ritra_error err;

        if (ritra_list_shares(c, q, &resp, &err) < 0) {
            rc = cli_report(&err);
            break;
        }
        res = resp->list_shares;
        for (size_t i = 0; i < res->n_grants && rc == CLI_EXIT_OK; i++)
            rc = print_grant(g, res->grants[i]);
        if (rc != CLI_EXIT_OK || res->next_page_token[0] == '\0') {
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (!all) {
            print_more(res->next_page_token);
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (token != NULL && strcmp(token, res->next_page_token) == 0) {
            /* Following it would loop forever. */
            fputs("ritra: PROTOCOL: the server repeated a page token\n", stderr);
            ritra__response__free_unpacked(resp, NULL);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        free(token);
        token = strdup(res->next_page_token);
        q->page_token = token;
        ritra__response__free_unpacked(resp, NULL);
        if (token == NULL) {
            fputs("ritra: NOMEM: out of memory\n", stderr);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
    }
    free(token);
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_INTERNAL;
    return rc;
}

static int share_list(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"given", no_argument, NULL, F_GIVEN},
        {"received", no_argument, NULL, F_RECEIVED},
        {"state", required_argument, NULL, F_STATE},
        {"case", required_argument, NULL, F_CASE},
        {"page-size", required_argument, NULL, F_PAGE_SIZE},
        {"page-token", required_argument, NULL, F_PAGE_TOKEN},
        {"all", no_argument, NULL, F_ALL},
        {NULL, 0, NULL, 0},
    };
    Ritra__ListSharesRequest q = RITRA__LIST_SHARES_REQUEST__INIT;
    /* Each flag takes one argv slot at least: argc bounds the count. */
    char **states = calloc((size_t)argc, sizeof(char *));
    struct ritra_conn *c = NULL;
    int ch, all = 0, rc = CLI_EXIT_USAGE;
    long size;

    if (states == NULL) {
        fputs("ritra: NOMEM: out of memory\n", stderr);
        return CLI_EXIT_INTERNAL;
    }
    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        switch (ch) {
        case F_GIVEN:
        case F_RECEIVED:
            if (q.direction[0] != '\0') {
                rc = cli_usage_error("share list wants one of --given and --received");
                goto done;
            }
            q.direction = ch == F_GIVEN ? "given" : "received";
            break;
        case F_STATE:
            states[q.n_state++] = optarg;
            break;
        case F_CASE:
            q.case_id = optarg;
            break;
        case F_PAGE_SIZE:
            if (cli_parse_long(optarg, 1, 500, &size) < 0) {
                rc = cli_usage_error("--page-size wants 1 to 500, not \"%s\"", optarg);
                goto done;
            }
            q.page_size = (uint32_t)size;
            break;
        case F_PAGE_TOKEN:
            q.page_token = optarg;
            break;
        case F_ALL:
            all = 1;
            break;
        default:
            rc = cli_other_flag("share", ch);
            goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("share list takes no arguments, got \"%s\"", argv[optind]);
        goto done;
    }
    if (q.direction[0] == '\0') {
        rc = cli_usage_error("share list wants --given or --received");
        goto done;
    }
    q.state = states;
    c = cli_connect(g, &rc);
    if (c != NULL)
        rc = list_pages(g, c, &q, all);
done:
    ritra_close(c);
    free(states);
    return rc;
}

/* ---- the command ---- */

static int run_share(struct cli *g, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(struct cli *g, int argc, char **argv);
    } subs[] = {
        {"case", share_case},     {"accept", share_accept}, {"reject", share_reject},
        {"revoke", share_revoke}, {"list", share_list},
    };
    int ch;

    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            if (strcmp(argv[1], subs[i].name) == 0) {
                optind = 0; /* GNU getopt: start over on the subcommand's arguments */
                return subs[i].run(g, argc - 1, argv + 1);
            }
        }
        return cli_usage_error(
            "share has no subcommand \"%s\" (case, accept, reject, revoke, list)", argv[1]);
    }
    ch = cli_getopt(g, argc, argv, "+:", NULL);
    if (ch != -1)
        return cli_other_flag("share", ch);
    return cli_usage_error("share wants a subcommand: case, accept, reject, revoke or list");
}

const struct cli_command cli_share_command = {
    "share",
    run_share,
    "  share case              offer a case to an agency or grant it to a kind of agency\n"
    "  share accept|reject ID  answer a grant offered to us\n"
    "  share revoke ID         withdraw a grant we made or one on our case\n"
    "  share list              list grants given or received, one line each\n",
    "usage: ritra [flags] share case --id UUID (--to AGENCY | --to-kind KIND)\n"
    "                                --level HIT|RESTRICTED|FULL --purpose TEXT\n"
    "                                [--expires RFC3339]\n"
    "       ritra [flags] share accept GRANT_ID [--reason TEXT]\n"
    "       ritra [flags] share reject GRANT_ID [--reason TEXT]\n"
    "       ritra [flags] share revoke GRANT_ID [--reason TEXT]\n"
    "       ritra [flags] share list (--given | --received) [--state S]... [--case UUID]\n"
    "                                [--page-size N] [--page-token T] [--all]\n"
    "\n"
    "Each prints grants, one line each:\n"
    "  GRANT_ID CASE_ID FROM TO LEVEL STATE EXPIRES PURPOSE\n"
    "(TO is an agency code or kind:KIND; \"-\" for an empty value; --json: one\n"
    "Grant object per line).\n"
    "\n"
    "case    shares a case; prints the new grant, \"offered\" until the recipient\n"
    "        accepts it (a grant to a kind is in force at once)\n"
    "  --id UUID              the case\n"
    "  --to AGENCY            one agency, by its code, or\n"
    "  --to-kind KIND         every agency of a kind: prosecutor, police, migration,\n"
    "                         victim_services or coordinator (owner only)\n"
    "  --level L              HIT (that it exists), RESTRICTED (no victim identity,\n"
    "                         no sensitive text) or FULL\n"
    "  --purpose TEXT         why the recipient needs it; required, audited\n"
    "  --expires RFC3339      when the grant ends, e.g. 2025-12-31T23:59:59Z\n"
    "accept  accepts a grant offered to us; prints it\n"
    "reject  declines it; prints it\n"
    "revoke  withdraws a grant (and the onward grants made from it); prints it\n"
    "  --reason TEXT          recorded with the grant\n"
    "list    prints a header line, then the grants\n"
    "  --given                grants we made\n"
    "  --received             grants made to us\n"
    "  --state S              only grants in state S: offered, accepted, rejected,\n"
    "                         revoked or expired (repeatable)\n"
    "  --case UUID            only grants on this case\n"
    "  --page-size N          grants per request, 1 to 500 (server default 100)\n"
    "  --page-token T         continue from where an earlier list stopped\n"
    "  --all                  follow the pages to the end\n",
};
