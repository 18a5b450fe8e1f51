/*
 * ritra case submit: cases from a JSON file to SubmitCase or SubmitCases.
 *
 * Output formats are stable; scripts may rely on them (--json is the
 * machine-readable form). Server text is printed with control characters
 * replaced by '?'.
 *
 * case submit FILE|- [--expected-version N]
 *   FILE ("-": standard input) holds one Case object or an array of them;
 *   the keys are the Case field names (docs/case-format.md). All of it is
 *   converted before anything is sent: input that is not JSON, or not
 *   Cases, exits 2 naming the place, e.g.
 *       ritra: cases.json: [3].persons[1].prs_Frist_Name: unknown field
 *   One object is sent as SubmitCase and prints
 *       CASE_ID VERSION created|updated|unchanged
 *   An array is sent as SubmitCases, in requests of at most 500 cases and
 *   about 3 MiB pipelined on one connection, and prints one line per case
 *   in input order (INDEX counts from 0, as the [i] in the paths above;
 *   an empty EXTERNAL_REF prints as "-"):
 *       INDEX EXTERNAL_REF created|updated|unchanged CASE_ID VERSION
 *       INDEX EXTERNAL_REF error STATUS: MESSAGE
 *         PATH: REASON                       (each field error)
 *   With --json, one object per case (a single object: without "index"):
 *       {"index":0,"external_ref":"R1","status":"OK","result":"created",
 *        "case_id":"...","version":1}
 *       {"index":1,"external_ref":"R2","status":"FAILED_PRECONDITION",
 *        "message":"...","details":[{"path":"...","reason":"..."}],
 *        "current_version":4}
 *   Exit 0 when every case is OK, 1 when any failed. On a connection
 *   failure nothing is printed per case; submitting the same file again is
 *   safe (cases already stored answer "unchanged").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsontext.h"
#include "pbjson.h"

#define CHUNK_MAX_CASES 500
#define CHUNK_MAX_BYTES (3u << 20)  /* under the servers' default 4 MiB frame */
#define INPUT_MAX_BYTES (1ul << 30) /* a larger file is better split */

/* ---- reading the input ---- */

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = -1;

    if (f == NULL)
        return cli_input_error("cannot open %s: %s", path, strerror(errno));
    for (;;) {
        if (cap - n < 65536) {
            char *nb;

            if (cap >= INPUT_MAX_BYTES) {
                cli_input_error("%s is larger than 1 GiB: split it", path);
                goto done;
            }
            cap = cap ? 2 * cap : 262144;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                fputs("ritra: NOMEM: out of memory\n", stderr);
                rc = CLI_EXIT_INTERNAL;
                goto done;
            }
            buf = nb;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) {
            cli_input_error("cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (feof(f))
            break;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
done:
    if (f != stdin)
        fclose(f);
    free(buf);
    return rc < 0 ? CLI_EXIT_USAGE : rc;
}

struct input {
    Ritra__Case **cases;
    size_t n;
    int is_array;
};

static void input_free(struct input *in)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->cases[i] != NULL) /* NULL from the failed case on */
            protobuf_c_message_free_unpacked(&in->cases[i]->base, NULL);
    free(in->cases);
    in->cases = NULL;
    in->n = 0;
}

static int convert_case(const char *path, struct json_object *j, long index, Ritra__Case **out)
{
    struct pbjson_error e;
    char where[300];

    if (pbjson_to_message(&ritra__case__descriptor, j, (ProtobufCMessage **)out, &e) == 0)
        return 0;
    if (index < 0)
        snprintf(where, sizeof(where), "%s", e.path);
    else
        snprintf(where, sizeof(where), "[%ld]%s%s", index, e.path[0] ? "." : "", e.path);
    return cli_input_error("%s: %s%s%s", path, where, where[0] ? ": " : "", e.reason);
}

/* Reads and converts every case in path; nothing is sent on an error. */
static int load_input(const char *path, struct input *in)
{
    struct json_object *root = NULL;
    char *text = NULL, why[256];
    size_t len = 0;
    int rc = read_all(path, &text, &len);

    if (rc != 0)
        return rc;
    root = jsontext_parse(text, len, why, sizeof(why));
    free(text);
    if (root == NULL) {
        return cli_input_error("%s: %s", strcmp(path, "-") ? path : "stdin",
                               why[0] ? why : "expected a case object or an array of them");
    }
    in->is_array = json_object_is_type(root, json_type_array);
    in->n = in->is_array ? json_object_array_length(root) : 1;
    in->cases = calloc(in->n ? in->n : 1, sizeof(*in->cases));
    if (in->cases == NULL) {
        fputs("ritra: NOMEM: out of memory\n", stderr);
        rc = CLI_EXIT_INTERNAL;
        in->n = 0;
    }
    for (size_t i = 0; rc == 0 && i < in->n; i++) {
        struct json_object *j = in->is_array ? json_object_array_get_idx(root, i) : root;

        rc = convert_case(strcmp(path, "-") ? path : "stdin", j, in->is_array ? (long)i : -1,
                          &in->cases[i]);
    }
    json_object_put(root);
    if (rc != 0)
        input_free(in);
    return rc;
}

/* ---- printing submit outcomes ---- */

/* One case's outcome: the result when OK, else the status (NULL when the
 * reason is local, as a protocol error) and err. */
struct outcome {
    const Ritra__SubmitCaseResult *result;
    const Ritra__Status *status;
    const struct ritra_error *err;
    int64_t current_version;
};

static const char *result_word(const Ritra__SubmitCaseResult *r)
{
    return r->created ? "created" : r->changed ? "updated" : "unchanged";
}

/* One field error of an outcome. */
struct detail {
    const char *path, *reason;
    size_t path_len, reason_len;
};

struct detail_iter {
    const struct outcome *o;
    size_t i;         /* next in o->status->details */
    const char *line; /* next in o->err->details, when there is no status */
};

/* Server paths name the request ("submit_cases.items[100].case.sex", the
 * 100 counting within one of our chunks); the user knows the case. */
static void make_relative(struct detail *d)
{
    static const char one[] = "submit_case.case.", many[] = "submit_cases.items[";
    const char *rel = d->path;

    if (strncmp(d->path, one, strlen(one)) == 0) {
        rel = d->path + strlen(one);
    } else if (strncmp(d->path, many, strlen(many)) == 0) {
        const char *close = strchr(d->path + strlen(many), ']');

        if (close != NULL && strncmp(close, "].case.", 7) == 0)
            rel = close + 7;
    }
    if ((size_t)(rel - d->path) < d->path_len) {
        d->path_len -= (size_t)(rel - d->path);
        d->path = rel;
    }
}

/* The next field error: from the Status when there is one, else from the
 * "path: reason" lines of err. Returns 0 at the end. */
static int next_detail(struct detail_iter *it, struct detail *d)
{
    if (it->o->status != NULL) {
        const Ritra__FieldError *fe;

        if (it->i >= it->o->status->n_details)
            return 0;
        fe = it->o->status->details[it->i++];
        *d = (struct detail){fe->path, fe->reason, strlen(fe->path), strlen(fe->reason)};
    } else {
        const char *line = it->line;
        size_t n = strcspn(line, "\n"), plen = 0;

        if (*line == '\0')
            return 0;
        while (plen + 1 < n && !(line[plen] == ':' && line[plen + 1] == ' '))
            plen++;
        if (plen + 1 >= n)
            *d = (struct detail){line, line, 0, n}; /* no path: all reason */
        else
            *d = (struct detail){line, line + plen + 2, plen, n - plen - 2};
        it->line = line + n + (line[n] == '\n');
    }
    make_relative(d);
    return 1;
}

static struct json_object *details_json(const struct outcome *o)
{
    struct json_object *arr = json_object_new_array();
    struct detail_iter it = {o, 0, o->err->details};
    struct detail d;

    while (next_detail(&it, &d)) {
        struct json_object *j = json_object_new_object();

        json_object_object_add(j, "path", json_object_new_string_len(d.path, (int)d.path_len));
        json_object_object_add(j, "reason",
                               json_object_new_string_len(d.reason, (int)d.reason_len));
        json_object_array_add(arr, j);
    }
    return arr;
}

/* Server text on the terminal: control characters become '?'. */
static void put_clean(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        putc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], f);
}

/* "  PATH: REASON" per field error. */
static void print_details(FILE *f, const struct outcome *o)
{
    struct detail_iter it = {o, 0, o->err->details};
    struct detail d;

    while (next_detail(&it, &d)) {
        fputs("  ", f);
        put_clean(f, d.path, d.path_len);
        fputs(d.path_len ? ": " : "", f);
        put_clean(f, d.reason, d.reason_len);
        putc('\n', f);
    }
}

static int print_outcome_json(long index, const char *ref, const struct outcome *o)
{
    struct json_object *j = json_object_new_object();

    if (index >= 0)
        json_object_object_add(j, "index", json_object_new_int64(index));
    json_object_object_add(j, "external_ref", json_object_new_string(ref));
    if (o->result != NULL) {
        json_object_object_add(j, "status", json_object_new_string("OK"));
        json_object_object_add(j, "result", json_object_new_string(result_word(o->result)));
        json_object_object_add(j, "case_id", json_object_new_string(o->result->case_id));
        json_object_object_add(j, "version", json_object_new_int64(o->result->version));
        return cli_print_json(j, 0);
    }
    json_object_object_add(j, "status", json_object_new_string(ritra_status_name(o->err->code)));
    json_object_object_add(
        j, "message", json_object_new_string(o->status ? o->status->message : o->err->message));
    json_object_object_add(j, "details", details_json(o));
    if (o->current_version > 0)
        json_object_object_add(j, "current_version", json_object_new_int64(o->current_version));
    return cli_print_json(j, 0);
}

static void print_outcome_text(long index, const char *ref, const struct outcome *o)
{
    char r[256], id[64];

    if (ref[0] == '\0')
        ref = "-";
    if (o->result != NULL) {
        printf("%ld %s %s %s %" PRId64 "\n", index, cli_clean(r, sizeof(r), ref),
               result_word(o->result), cli_clean(id, sizeof(id), o->result->case_id),
               o->result->version);
        return;
    }
    printf("%ld %s error %s: %s\n", index, cli_clean(r, sizeof(r), ref),
           ritra_status_name(o->err->code), o->err->message);
    print_details(stdout, o);
}

/* ---- submit ---- */

static int submit_one(struct cli *g, struct ritra_conn *c, const Ritra__Case *kase,
                      int64_t expected)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    struct outcome o = {.err = &err};
    char id[64];

    if (ritra_submit_case(c, kase, expected, &resp, &err) < 0) {
        if (err.code <= RITRA__STATUS_CODE__OK || err.code >= RITRA_E_CONNECT)
            return cli_report(&err); /* not about the case: the connection */
        if (g->json) {
            print_outcome_json(-1, kase->external_ref, &o);
        } else {
            fprintf(stderr, "ritra: %s: %s\n", ritra_status_name(err.code), err.message);
            print_details(stderr, &o);
        }
        return cli_exit_for(err.code);
    }
    o.result = resp->submit_case;
    if (g->json)
        print_outcome_json(-1, kase->external_ref, &o);
    else
        printf("%s %" PRId64 " %s\n", cli_clean(id, sizeof(id), o.result->case_id),
               o.result->version, result_word(o.result));
    ritra__response__free_unpacked(resp, NULL);
    return CLI_EXIT_OK;
}

/* Splits the cases into SubmitCases requests; returns their count. */
static size_t plan_chunks(Ritra__Case *const *cases, size_t n, Ritra__SubmitCaseRequest *items,
                          Ritra__SubmitCaseRequest **ptrs, Ritra__SubmitCasesRequest *batches,
                          Ritra__Request *reqs, Ritra__Request **reqp)
{
    size_t k = 0, bytes = 0;

    for (size_t i = 0; i < n; i++) {
        Ritra__SubmitCaseRequest init = RITRA__SUBMIT_CASE_REQUEST__INIT;
        /* The item's own tags and lengths: a few bytes beyond the case. */
        size_t size = ritra__case__get_packed_size(cases[i]) + 32;

        items[i] = init;
        items[i].case_ = cases[i];
        ptrs[i] = &items[i];
        if (i == 0 || batches[k - 1].n_items == CHUNK_MAX_CASES || bytes + size > CHUNK_MAX_BYTES) {
            Ritra__SubmitCasesRequest binit = RITRA__SUBMIT_CASES_REQUEST__INIT;
            Ritra__Request rinit = RITRA__REQUEST__INIT;

            batches[k] = binit;
            batches[k].items = &ptrs[i];
            reqs[k] = rinit;
            reqs[k].op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
            reqs[k].submit_cases = &batches[k];
            reqp[k] = &reqs[k];
            k++;
            bytes = 0;
        }
        batches[k - 1].n_items++;
        bytes += size;
    }
    return k;
}

/* Prints the outcome of every case in one request; returns the exit
 * status they call for. */
static int print_chunk(struct cli *g, const Ritra__Request *req, const Ritra__Response *resp,
                       size_t first)
{
    const Ritra__SubmitCasesRequest *b = req->submit_cases;
    struct ritra_error whole, item_err;
    int answered = ritra_check_response(req, resp, &whole) == 0;
    int rc = answered ? CLI_EXIT_OK : cli_exit_for(whole.code);

    for (size_t j = 0; j < b->n_items; j++) {
        struct outcome o = {.err = &whole};
        const Ritra__SubmitCasesItem *it = answered ? resp->submit_cases->items[j] : NULL;

        if (!answered) {
            /* The request as a whole failed, so each case in it did. */
            if (resp->status != NULL && resp->status->code != RITRA__STATUS_CODE__OK)
                o.status = resp->status;
        } else if (it->status->code == RITRA__STATUS_CODE__OK) {
            o.result = it->result;
        } else {
            ritra_error_from_status(it->status, &item_err);
            o.status = it->status;
            o.err = &item_err;
            o.current_version = it->current_version;
            rc = CLI_EXIT_STATUS;
        }
        if (g->json)
            print_outcome_json((long)(first + j), b->items[j]->case_->external_ref, &o);
        else
            print_outcome_text((long)(first + j), b->items[j]->case_->external_ref, &o);
    }
    return rc;
}

static int submit_many(struct cli *g, struct ritra_conn *c, Ritra__Case *const *cases, size_t n)
{
    Ritra__SubmitCaseRequest *items = calloc(n, sizeof(*items));
    Ritra__SubmitCaseRequest **ptrs = calloc(n, sizeof(*ptrs));
    Ritra__SubmitCasesRequest *batches = calloc(n, sizeof(*batches));
    Ritra__Request *reqs = calloc(n, sizeof(*reqs));
    Ritra__Request **reqp = calloc(n, sizeof(*reqp));
    Ritra__Response **resps = calloc(n, sizeof(*resps));
    struct ritra_error err;
    size_t chunks = 0, first = 0;
    int rc = CLI_EXIT_INTERNAL;

    if (items == NULL || ptrs == NULL || batches == NULL || reqs == NULL || reqp == NULL ||
        resps == NULL) {
        fputs("ritra: NOMEM: out of memory\n", stderr);
        goto done;
    }
    chunks = plan_chunks(cases, n, items, ptrs, batches, reqs, reqp);
    if (ritra_call_batch(c, reqp, chunks, resps, &err) < 0) {
        rc = cli_report(&err);
        goto done;
    }
    rc = CLI_EXIT_OK;
    for (size_t k = 0; k < chunks; k++) {
        int crc = print_chunk(g, reqp[k], resps[k], first);

        /* The most serious outcome decides: 5 over 4 over 1. */
        if (crc > rc)
            rc = crc;
        first += batches[k].n_items;
    }
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_INTERNAL;
done:
    for (size_t k = 0; resps != NULL && k < chunks; k++)
        ritra__response__free_unpacked(resps[k], NULL);
    free(resps);
    free(reqp);
    free(reqs);
    free(batches);
    free(ptrs);
    free(items);
    return rc;
}

int cli_case_submit(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"expected-version", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    struct input in = {0};
    struct ritra_conn *c;
    int64_t expected = 0;
    int ch, rc, have_expected = 0;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch != 'e')
            return cli_other_flag("case", ch);
        if (cli_expected_version(optarg, &expected) < 0)
            return CLI_EXIT_USAGE;
        have_expected = 1;
    }
    if (argc - optind != 1)
        return cli_usage_error("case submit wants one FILE (or - for standard input)");
    rc = load_input(argv[optind], &in);
    if (rc != 0)
        return rc;
    if (have_expected && in.is_array) {
        input_free(&in);
        return cli_usage_error("--expected-version applies to a single case, not an array");
    }
    if (in.n == 0) {
        input_free(&in);
        return CLI_EXIT_OK;
    }
    c = cli_connect(g, &rc);
    if (c != NULL) {
        rc = in.is_array ? submit_many(g, c, in.cases, in.n)
                         : submit_one(g, c, in.cases[0], expected);
        ritra_close(c);
    }
    input_free(&in);
    return rc;
}
