/*
 * ritra case: get, list and close cases, and the dispatch to the
 * subcommands (submit is in cli_submit.c).
 *
 * Output formats are stable; scripts may rely on them (--json is the
 * machine-readable form). Server text is printed with control characters
 * replaced by '?'.
 *
 * case get (--id UUID | --ref EXTERNAL_REF)
 *   The case as JSON (Case field names, defaults left out), indented;
 *   with --json on one line. It is valid input for case submit (the
 *   server-set fields are ignored there). At HIT visibility the server
 *   tells only that the case exists: the CaseHit object is printed
 *   instead. Unless the visibility is FULL without a handling notice,
 *   stderr gets "ritra: visibility V[; handling: NOTICE]".
 *
 * case list [--status S]... [--handling H]... [--since DATE]
 *           [--page-size N] [--page-token T] [--all]
 *   A header line, then one line per case, columns separated by spaces,
 *   "-" for an empty value (HIT rows carry no content):
 *       CASE_ID EXTERNAL_REF VERSION STATUS HANDLING UPDATED_AT PERSONS
 *       VISIBILITY
 *   With --json, one CaseSummary object per line, no header. When more
 *   pages remain and --all is not given, stderr receives (quoted for the shell)
 *       ritra: more cases: --page-token 'TOKEN'
 *
 * case close --id UUID --status Closed|ClosedReferred|Withdrawn
 *            [--reason TEXT] [--expected-version N]
 *   Prints CASE_ID VERSION; with --json {"case_id":"...","version":N}.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pbjson.h"

/* Flag values; these flags have no short form. */
enum {
    F_EXPECTED = 1,
    F_ID,
    F_REF,
    F_STATUS,
    F_HANDLING,
    F_SINCE,
    F_PAGE_SIZE,
    F_PAGE_TOKEN,
    F_ALL,
    F_REASON,
};

/* ---- get ---- */

static int print_get_result(struct cli *g, const Ritra__GetCaseResult *r)
{
    const ProtobufCMessage *shown = r->case_ ? &r->case_->base : &r->hit->base;
    struct json_object *j = NULL;
    struct pbjson_error pe;
    char vis[32], notice[1024];

    /* Less than everything, or strings attached: the reader must know. */
    if ((r->visibility[0] != '\0' && strcmp(r->visibility, "FULL") != 0) ||
        r->handling_notice[0] != '\0')
        fprintf(stderr, "ritra: visibility %s%s%s\n", cli_clean(vis, sizeof(vis), r->visibility),
                r->handling_notice[0] ? "; handling: " : "",
                cli_clean(notice, sizeof(notice), r->handling_notice));
    if (pbjson_from_message(shown, &j, &pe) < 0) {
        fprintf(stderr, "ritra: PROTOCOL: the server's case cannot be shown: %s: %s\n", pe.path,
                pe.reason);
        return CLI_EXIT_INTERNAL;
    }
    return cli_print_json(j, !g->json);
}

static int case_get(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"id", required_argument, NULL, F_ID},
        {"ref", required_argument, NULL, F_REF},
        {NULL, 0, NULL, 0},
    };
    const char *id = NULL, *ref = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_ID)
            id = optarg;
        else if (ch == F_REF)
            ref = optarg;
        else
            return cli_other_flag("case", ch);
    }
    if (optind < argc)
        return cli_usage_error("case get takes no arguments, got \"%s\"", argv[optind]);
    if ((id == NULL) == (ref == NULL))
        return cli_usage_error("case get wants either --id UUID or --ref EXTERNAL_REF");
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if ((id ? ritra_get_case_by_id(c, id, &resp, &err)
            : ritra_get_case_by_ref(c, ref, &resp, &err)) < 0)
        rc = cli_report(&err);
    else
        rc = print_get_result(g, resp->get_case);
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

/* ---- list ---- */

static int print_summaries(struct cli *g, const Ritra__ListCasesResult *res)
{
    for (size_t i = 0; i < res->n_cases; i++) {
        const Ritra__CaseSummary *s = res->cases[i];
        char id[64], ref[256], st[64], h[16], at[64], vis[16];
        struct json_object *j;
        struct pbjson_error pe;

        if (!g->json) {
            printf("%-36s  %-20s  %7" PRId64 "  %-14s  %-8s  %-24s  %7u  %s\n",
                   cli_clean(id, sizeof(id), s->case_id),
                   cli_clean(ref, sizeof(ref), s->external_ref[0] ? s->external_ref : "-"),
                   s->version, cli_clean(st, sizeof(st), s->cas_status[0] ? s->cas_status : "-"),
                   cli_clean(h, sizeof(h), s->handling_code[0] ? s->handling_code : "-"),
                   cli_clean(at, sizeof(at), s->updated_at[0] ? s->updated_at : "-"),
                   s->person_count,
                   cli_clean(vis, sizeof(vis), s->visibility[0] ? s->visibility : "-"));
            continue;
        }
        if (pbjson_from_message(&s->base, &j, &pe) < 0) {
            fprintf(stderr, "ritra: PROTOCOL: cases[%zu].%s: %s\n", i, pe.path, pe.reason);
            return CLI_EXIT_INTERNAL;
        }
        if (cli_print_json(j, 0) != CLI_EXIT_OK)
            return CLI_EXIT_INTERNAL;
    }
    return CLI_EXIT_OK;
}

/* Pages through ListCases; q is the first page's query. */
static int list_pages(struct cli *g, struct ritra_conn *c, Ritra__ListCasesRequest *q, int all)
{
    char *token = NULL, clean[512];
    int rc = CLI_EXIT_OK;

    if (!g->json)
        printf("%-36s  %-20s  %7s  %-14s  %-8s  %-24s  %7s\n", "CASE_ID", "EXTERNAL_REF", "VERSION",
               "STATUS", "HANDLING", "UPDATED_AT", "PERSONS");
    for (;;) {
        Ritra__Response *resp = NULL;
        struct ritra_error err;
        const char *next;

        if (ritra_list_cases(c, q, &resp, &err) < 0) {
            rc = cli_report(&err);
            break;
        }
        rc = print_summaries(g, resp->list_cases);
        next = resp->list_cases->next_page_token;
        if (rc != CLI_EXIT_OK || next[0] == '\0') {
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (!all) {
            /* Quoted for the shell: tokens may hold '|' or '~'. */
            fputs("ritra: more cases: --page-token '", stderr);
            for (const char *p = cli_clean(clean, sizeof(clean), next); *p != '\0'; p++) {
                if (*p == '\'')
                    fputs("'\\''", stderr);
                else
                    putc(*p, stderr);
            }
            fputs("'\n", stderr);
            ritra__response__free_unpacked(resp, NULL);
            break;
        }
        if (token != NULL && strcmp(token, next) == 0) {
            /* Following it would loop forever. */
            fputs("ritra: PROTOCOL: the server repeated a page token\n", stderr);
            ritra__response__free_unpacked(resp, NULL);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        free(token);
        token = strdup(next);
        q->page_token = token;
        ritra__response__free_unpacked(resp, NULL);
        if (token == NULL) {
            rc = CLI_EXIT_INTERNAL;
            break;
        }
    }
    free(token);
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_INTERNAL;
    return rc;
}

static int case_list(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"status", required_argument, NULL, F_STATUS},
        {"handling", required_argument, NULL, F_HANDLING},
        {"since", required_argument, NULL, F_SINCE},
        {"page-size", required_argument, NULL, F_PAGE_SIZE},
        {"page-token", required_argument, NULL, F_PAGE_TOKEN},
        {"all", no_argument, NULL, F_ALL},
        {NULL, 0, NULL, 0},
    };
    Ritra__ListCasesRequest q = RITRA__LIST_CASES_REQUEST__INIT;
    /* Each flag takes one argv slot at least: argc bounds the counts. */
    char **statuses = calloc((size_t)argc, sizeof(char *));
    char **handling = calloc((size_t)argc, sizeof(char *));
    struct ritra_conn *c = NULL;
    int ch, all = 0, rc = CLI_EXIT_USAGE;
    long size;

    if (statuses == NULL || handling == NULL)
        goto done;
    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        switch (ch) {
        case F_STATUS:
            statuses[q.n_status++] = optarg;
            break;
        case F_HANDLING:
            handling[q.n_handling_code++] = optarg;
            break;
        case F_SINCE:
            q.updated_since = optarg;
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
            rc = cli_other_flag("case", ch);
            goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("case list takes no arguments, got \"%s\"", argv[optind]);
        goto done;
    }
    q.status = statuses;
    q.handling_code = handling;
    c = cli_connect(g, &rc);
    if (c != NULL)
        rc = list_pages(g, c, &q, all);
done:
    ritra_close(c);
    free(statuses);
    free(handling);
    return rc;
}

/* ---- close ---- */

static int case_close(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"id", required_argument, NULL, F_ID},
        {"status", required_argument, NULL, F_STATUS},
        {"reason", required_argument, NULL, F_REASON},
        {"expected-version", required_argument, NULL, F_EXPECTED},
        {NULL, 0, NULL, 0},
    };
    const char *id = NULL, *status = NULL, *reason = NULL;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct ritra_conn *c;
    int64_t expected = 0;
    int ch, rc;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == F_ID)
            id = optarg;
        else if (ch == F_STATUS)
            status = optarg;
        else if (ch == F_REASON)
            reason = optarg;
        else if (ch == F_EXPECTED) {
            if (cli_expected_version(optarg, &expected) < 0)
                return CLI_EXIT_USAGE;
        } else
            return cli_other_flag("case", ch);
    }
    if (optind < argc)
        return cli_usage_error("case close takes no arguments, got \"%s\"", argv[optind]);
    if (id == NULL || status == NULL)
        return cli_usage_error("case close wants --id UUID and --status "
                               "Closed|ClosedReferred|Withdrawn");
    c = cli_connect(g, &rc);
    if (c == NULL)
        return rc;
    if (ritra_close_case(c, id, status, reason, expected, &resp, &err) < 0) {
        rc = cli_report(&err);
    } else if (g->json) {
        struct json_object *j = json_object_new_object();

        json_object_object_add(j, "case_id", json_object_new_string(resp->close_case->case_id));
        json_object_object_add(j, "version", json_object_new_int64(resp->close_case->version));
        rc = cli_print_json(j, 0);
    } else {
        char cid[64];

        printf("%s %" PRId64 "\n", cli_clean(cid, sizeof(cid), resp->close_case->case_id),
               resp->close_case->version);
        rc = CLI_EXIT_OK;
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
    return rc;
}

/* ---- the command ---- */

static int run_case(struct cli *g, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(struct cli *g, int argc, char **argv);
    } subs[] = {
        {"submit", cli_case_submit},
        {"get", case_get},
        {"list", case_list},
        {"close", case_close},
    };
    int ch;

    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            if (strcmp(argv[1], subs[i].name) == 0) {
                optind = 0; /* GNU getopt: start over on the subcommand's arguments */
                return subs[i].run(g, argc - 1, argv + 1);
            }
        }
        return cli_usage_error("case has no subcommand \"%s\" (submit, get, list, close)", argv[1]);
    }
    ch = cli_getopt(g, argc, argv, "+:", NULL);
    if (ch != -1)
        return cli_other_flag("case", ch);
    return cli_usage_error("case wants a subcommand: submit, get, list or close");
}

const struct cli_command cli_case_command = {
    "case",
    run_case,
    "  case submit FILE|-      submit cases from JSON: one object or an array\n"
    "  case get                print a case as JSON (--id UUID or --ref EXTERNAL_REF)\n"
    "  case list               list cases, one summary line each\n"
    "  case close              close or withdraw a case\n",
    "usage: ritra [flags] case submit FILE|- [--expected-version N]\n"
    "       ritra [flags] case get (--id UUID | --ref EXTERNAL_REF)\n"
    "       ritra [flags] case list [--status S]... [--handling H]... [--since DATE]\n"
    "                               [--page-size N] [--page-token T] [--all]\n"
    "       ritra [flags] case close --id UUID --status Closed|ClosedReferred|Withdrawn\n"
    "                                [--reason TEXT] [--expected-version N]\n"
    "\n"
    "submit  FILE (- for standard input) holds one case object or an array of\n"
    "        them, keyed by the Case field names (docs/case-format.md); invalid\n"
    "        input exits 2 naming the place. One case prints\n"
    "          CASE_ID VERSION created|updated|unchanged\n"
    "        an array prints a line per case, in input order:\n"
    "          INDEX EXTERNAL_REF created|updated|unchanged CASE_ID VERSION\n"
    "          INDEX EXTERNAL_REF error STATUS: MESSAGE   (field errors indented)\n"
    "        and exits 1 if any case failed. Arrays go in requests of up to 500.\n"
    "  --expected-version N   update only if the case is at version N (one case)\n"
    "get     prints the case as indented JSON (--json: on one line); at HIT\n"
    "        visibility only the hit; stderr names the visibility and handling\n"
    "list    prints CASE_ID EXTERNAL_REF VERSION STATUS HANDLING UPDATED_AT PERSONS\n"
    "        VISIBILITY (HIT rows: the case exists, nothing more)\n"
    "  --status S             only cases with cas_Status S (repeatable)\n"
    "  --handling H           only cases with handling code H (repeatable)\n"
    "  --since DATE           only cases changed since DATE (YYYY-MM-DD or RFC 3339)\n"
    "  --page-size N          cases per request, 1 to 500 (server default 100)\n"
    "  --page-token T         continue from where an earlier list stopped\n"
    "  --all                  follow the pages to the end\n"
    "close   prints CASE_ID VERSION\n"
    "  --status S             Closed, ClosedReferred or Withdrawn\n"
    "  --reason TEXT          cas_ReasonForCaseClosure\n"
    "  --expected-version N   close only if the case is at version N\n"
    "\n"
    "--json prints one JSON object per line instead (per case for submit and\n"
    "list); client-lib/cli_submit.c and cli_case.c describe the formats.\n",
};
