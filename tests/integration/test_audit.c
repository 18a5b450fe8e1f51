/*
 * The audit trail end to end: every operation leaves exactly one entry
 * with the right fields (refused connections and malformed requests
 * included), agencies pull only what concerns their own cases, the
 * database keeps the server's role to INSERT and the guard triggers stop
 * even the superuser's casual UPDATE, a failed audit write fails the
 * request it records, and a superuser who tampers with the trail anyway
 * (field changed, entry deleted, inserted, swapped, tail cut off) is
 * caught by `ritra audit verify` at the first bad sequence number, using
 * the checkpoints saved before the tampering.
 *
 * The server chains every 200 ms; tests wait for their entries by polling
 * AuditPull, and tampering waits until the chain and its checkpoints have
 * caught up, so that what is pulled is exactly what was tampered with.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "case_fixture.h"
#include "harness.h"

extern char **environ;

#define CHAIN_LOCK "7526357349231" /* ritra_audit_chain's advisory lock */

static struct harness H;
static const char *CLI;
static PGconn *ADMIN;
static struct ritra_conn *FGN, *PONAL, *MIG, *PGN;
static uint64_t last_id = 0x41554400; /* request ids unique across the test */
static char FGN_CASE[37], FGN_CLOSED[37], MIG_CASE[37];

/* ---- SQL as the superuser ---- */

static PGresult *sql(const char *q)
{
    PGresult *r = PQexec(ADMIN, q);

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        char msg[1024];

        snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (PQtransactionStatus(ADMIN) != PQTRANS_IDLE)
            PQclear(PQexec(ADMIN, "ROLLBACK")); /* leave no aborted transaction behind */
        fail_msg("SQL failed: %s\n%s", msg, q);
    }
    return r;
}

static void sql_ok(const char *q)
{
    PQclear(sql(q));
}

static void sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sqlf(const char *fmt, ...)
{
    char q[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    sql_ok(q);
}

static long long sql_int(const char *q)
{
    PGresult *r = sql(q);
    long long v;

    assert_int_equal(PQntuples(r), 1);
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static int64_t chain_head(void)
{
    return sql_int("SELECT coalesce(max(seq), 0) FROM audit_chain");
}

/* Waits until every written entry is chained and the head is signed. */
static void quiesce(void)
{
    long long deadline = harness_now_ms() + 20000;

    while (harness_now_ms() < deadline) {
        if (sql_int("SELECT ((SELECT count(*) FROM audit_pending) = 0 AND"
                    " (SELECT coalesce(max(seq), 0) FROM audit_chain) ="
                    " (SELECT coalesce(max(seq), 0) FROM audit_checkpoints))::int") != 0)
            return;
        usleep(50000);
    }
    fail_msg("the audit chain did not catch up within 20 s");
}

/* ---- requests ---- */

static Ritra__Response *call(struct ritra_conn *c, Ritra__Request *req, uint64_t *id)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    req->id = *id = ++last_id;
    if (ritra_call(c, req, &resp, &err) < 0)
        fail_msg("call failed: %s %s", ritra_status_name(err.code), err.message);
    return resp;
}

static void status_is(const Ritra__Response *resp, int code)
{
    assert_non_null(resp);
    if ((int)resp->status->code != code)
        fail_msg("status %s (%s), expected %s", ritra_status_name((int)resp->status->code),
                 resp->status->message, ritra_status_name(code));
}

static Ritra__Response *submit(struct ritra_conn *c, struct case_fixture *f, int64_t expected,
                               const char *actor, uint64_t *id)
{
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;

    case_fixture_request(f, &req, &sub, expected);
    req.actor = (char *)actor;
    return call(c, &req, id);
}

static void submit_new(struct ritra_conn *c, const char *ref, char out[37])
{
    struct case_fixture f;
    Ritra__Response *resp;
    uint64_t id;

    case_fixture_init(&f, ref, 0);
    resp = submit(c, &f, 0, "", &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    snprintf(out, 37, "%s", resp->submit_case->case_id);
    ritra__response__free_unpacked(resp, NULL);
}

/* ---- the trail as AuditPull gives it ---- */

struct trail {
    const Ritra__AuditEntry **e;
    size_t n, cap;
    Ritra__Response **resps; /* own the entries */
    size_t n_resps;
};

static void trail_free(struct trail *t)
{
    for (size_t i = 0; i < t->n_resps; i++)
        ritra__response__free_unpacked(t->resps[i], NULL);
    free(t->resps);
    free(t->e);
    memset(t, 0, sizeof(*t));
}

/* Every page from `from` as agency c sees it, narrowed by filter (may be NULL). */
static void trail_pull(struct ritra_conn *c, const Ritra__AuditPullRequest *filter, int64_t from,
                       struct trail *t)
{
    Ritra__AuditPullRequest q = RITRA__AUDIT_PULL_REQUEST__INIT;

    if (filter != NULL)
        q = *filter;
    q.from_seq = from;
    for (;;) {
        Ritra__Response *resp;
        struct ritra_error err;

        if (ritra_audit_pull(c, &q, &resp, &err) < 0)
            fail_msg("AuditPull: %s %s", ritra_status_name(err.code), err.message);
        t->resps = realloc(t->resps, (t->n_resps + 1) * sizeof(*t->resps));
        assert_non_null(t->resps);
        t->resps[t->n_resps++] = resp;
        for (size_t i = 0; i < resp->audit_pull->n_entries; i++) {
            if (t->n == t->cap) {
                t->cap = t->cap ? 2 * t->cap : 256;
                t->e = realloc(t->e, t->cap * sizeof(*t->e));
                assert_non_null(t->e);
            }
            t->e[t->n++] = resp->audit_pull->entries[i];
        }
        if (!resp->audit_pull->more)
            return;
        q.from_seq = resp->audit_pull->next_seq;
    }
}

static int entry_is(const Ritra__AuditEntry *e, const char *agency, uint64_t id)
{
    return e->request_id == id && strcmp(e->agency, agency) == 0;
}

/* Polls AuditPull (as the auditor) until the request's entry is chained,
 * then waits for everything else written so far and pulls all of it. */
static void await_request(int64_t from, const char *agency, uint64_t id, struct trail *t)
{
    long long deadline = harness_now_ms() + 15000;

    for (;;) {
        int found = 0;

        trail_pull(PGN, NULL, from, t);
        for (size_t i = 0; i < t->n && !found; i++)
            found = entry_is(t->e[i], agency, id);
        trail_free(t);
        if (found)
            break;
        if (harness_now_ms() > deadline)
            fail_msg("no audit entry for %s request %" PRIu64 " within 15 s", agency, id);
        usleep(100000);
    }
    quiesce();
    trail_pull(PGN, NULL, from, t);
}

static size_t count_request(const struct trail *t, const char *agency, uint64_t id)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++)
        n += entry_is(t->e[i], agency, id);
    return n;
}

static int has_case(const Ritra__AuditEntry *e, const char *case_id)
{
    for (size_t i = 0; i < e->n_case_ids; i++)
        if (strcmp(e->case_ids[i], case_id) == 0)
            return 1;
    return 0;
}

/* The one entry of operation op for the request; checks the usual fields.
 * records < 0 skips that check. */
static const Ritra__AuditEntry *expect_entry(const struct trail *t, const char *agency, uint64_t id,
                                             const char *op, const char *actor, const char *outcome,
                                             int records)
{
    const Ritra__AuditEntry *found = NULL;
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++) {
        if (entry_is(t->e[i], agency, id) && strcmp(t->e[i]->operation, op) == 0) {
            found = t->e[i];
            n++;
        }
    }
    if (n != 1)
        fail_msg("%zu \"%s\" entries for %s request %" PRIu64 ", expected 1", n, op, agency, id);
    assert_string_equal(found->actor, actor);
    assert_string_equal(found->outcome, outcome);
    if (records >= 0)
        assert_int_equal(found->records, records);
    assert_int_equal(strlen(found->time), 27); /* 2024-01-02T03:04:05.123456Z */
    assert_int_equal(strlen(found->hash), 64);
    assert_int_equal(strlen(found->prev_hash), 64);
    return found;
}

static void expect_cases(const Ritra__AuditEntry *e, size_t n, const char *first)
{
    if (e->n_case_ids != n)
        fail_msg("\"%s\" entry names %zu cases, expected %zu", e->operation, e->n_case_ids, n);
    if (first != NULL)
        assert_string_equal(e->case_ids[0], first);
}

/* ---- the CLI (as in test_cli.c) ---- */

struct run {
    int code;
    char *out, *err;
};

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return strdup("");
    do {
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 8192;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", H.dir, name);
}

static char **child_env(const char *cert)
{
    static const char *const ours[] = {
        "RITRA_ADDR=", "RITRA_CA=", "RITRA_CERT=", "RITRA_KEY=", "RITRA_ACTOR="};
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    env = calloc(n + 6, sizeof(*env));
    assert_non_null(env);
    for (size_t i = 0; i < n; i++) {
        int skip = 0;

        for (size_t j = 0; j < sizeof(ours) / sizeof(ours[0]); j++)
            skip |= strncmp(environ[i], ours[j], strlen(ours[j])) == 0;
        if (!skip)
            env[k++] = strdup(environ[i]);
    }
    for (int i = 0; i < 4; i++)
        env[k + (size_t)i] = malloc(400);
    snprintf(env[k++], 400, "RITRA_ADDR=%s", H.addr);
    snprintf(env[k++], 400, "RITRA_CA=%s/ca.crt", H.pki);
    snprintf(env[k++], 400, "RITRA_CERT=%s/%s.crt", H.pki, cert);
    snprintf(env[k++], 400, "RITRA_KEY=%s/%s.key", H.pki, cert);
    env[k++] = strdup("RITRA_ACTOR=auditor.cli");
    env[k] = NULL;
    return env;
}

/* Runs `ritra ARGS...` as agency cert and collects status, stdout, stderr. */
static void run(struct run *r, const char *cert, ...) __attribute__((sentinel));
static void run(struct run *r, const char *cert, ...)
{
    char outp[400], errp[400];
    const char *argv[64], *a;
    char **env = child_env(cert);
    posix_spawn_file_actions_t fa;
    size_t n = 0;
    va_list ap;
    pid_t pid;
    int status;

    argv[n++] = CLI;
    va_start(ap, cert);
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    path_in_dir(outp, sizeof(outp), "cli.out");
    path_in_dir(errp, sizeof(errp), "cli.err");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(posix_spawn(&pid, CLI, &fa, NULL, (char *const *)argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = read_file(outp);
    r->err = read_file(errp);
    for (char **e = env; *e != NULL; e++)
        free(*e);
    free(env);
}

static void expect_exit(const struct run *r, int code)
{
    if (r->code != code)
        fail_msg("ritra exited %d, expected %d\n--- stdout:\n%s--- stderr:\n%s", r->code, code,
                 r->out, r->err);
}

/* The JSON objects of a JSON Lines file. */
static size_t jsonl(const char *path, struct json_object ***out)
{
    char *text = read_file(path), *line = text, *nl;
    size_t n = 0;

    *out = NULL;
    for (; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        *out = realloc(*out, (n + 1) * sizeof(**out));
        assert_non_null(*out);
        (*out)[n] = json_tokener_parse(line);
        if ((*out)[n] == NULL)
            fail_msg("%s: not a JSON line: %s", path, line);
        n++;
    }
    assert_string_equal(line, ""); /* no partial last line */
    free(text);
    return n;
}

static void jsonl_free(struct json_object **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_object_put(lines[i]);
    free(lines);
}

static int64_t jint(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    struct ritra_error err;

    (void)state;
    CLI = getenv("RITRA_CLI_BIN");
    if (CLI == NULL || access(CLI, X_OK) != 0) {
        fprintf(stderr, "test-audit: RITRA_CLI_BIN does not name the ritra executable\n");
        return -1;
    }
    if (harness_start(&H, "audit_chain_interval = 200ms") < 0)
        return -1;
    ADMIN = PQconnectdb(H.db_admin);
    if (PQstatus(ADMIN) != CONNECTION_OK)
        return -1;
    PQclear(PQexec(ADMIN, "SET client_min_messages = warning"));
    FGN = harness_connect(&H, "FGN", &err);
    PONAL = harness_connect(&H, "PONAL", &err);
    MIG = harness_connect(&H, "MIGRACION", &err);
    PGN = harness_connect(&H, "PGN", &err);
    return FGN && PONAL && MIG && PGN ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ritra_close(FGN);
    ritra_close(PONAL);
    ritra_close(MIG);
    ritra_close(PGN);
    PQfinish(ADMIN);
    harness_stop(&H);
    return 0;
}

/* ---- every operation, one entry each ---- */

static void test_ping_leaves_one_entry(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    struct trail t = {0};
    char fp[65] = "";
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    req.actor = "ana.gomez";
    ritra__response__free_unpacked(call(FGN, &req, &id), NULL);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    e = expect_entry(&t, "FGN", id, "ping", "ana.gomez", "OK", 0);
    expect_cases(e, 0, NULL);
    /* The certificate that acted, as the server saw it. */
    {
        struct ritra_ping_result pr;
        struct ritra_error err;

        assert_int_equal(ritra_ping(FGN, &pr, &err), 0);
        snprintf(fp, sizeof(fp), "%s", pr.agency.fingerprint);
    }
    assert_string_equal(e->cert_fingerprint, fp);
    assert_true(e->seq >= from);
    trail_free(&t);
}

static void test_submit_case_outcomes_each_leave_one_entry(void **state)
{
    struct case_fixture f;
    Ritra__Response *ok, *conflict, *invalid;
    uint64_t id_ok, id_conflict, id_invalid;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    struct trail t = {0};

    (void)state;
    case_fixture_init(&f, "FGN-AUD-0001", 0);
    ok = submit(FGN, &f, 0, "fiscal.ruiz", &id_ok);
    status_is(ok, RITRA__STATUS_CODE__OK);
    snprintf(FGN_CASE, sizeof(FGN_CASE), "%s", ok->submit_case->case_id);
    /* Changed content at a version the case is not at. */
    snprintf(f.summary, sizeof(f.summary), "Resumen corregido");
    conflict = submit(FGN, &f, 99, "fiscal.ruiz", &id_conflict);
    status_is(conflict, RITRA__STATUS_CODE__FAILED_PRECONDITION);
    f.c.cas_status = "NotAStatus";
    invalid = submit(FGN, &f, 0, "fiscal.ruiz", &id_invalid);
    status_is(invalid, RITRA__STATUS_CODE__INVALID_ARGUMENT);
    /* Cases the later tests need: one to close, one another agency owns. */
    submit_new(FGN, "FGN-AUD-0002", FGN_CLOSED);
    submit_new(MIG, "MIG-AUD-0001", MIG_CASE);

    await_request(from, "FGN", id_invalid, &t);
    assert_int_equal(count_request(&t, "FGN", id_ok), 1);
    assert_int_equal(count_request(&t, "FGN", id_conflict), 1);
    assert_int_equal(count_request(&t, "FGN", id_invalid), 1);
    e = expect_entry(&t, "FGN", id_ok, "submit_case", "fiscal.ruiz", "OK", 0);
    expect_cases(e, 1, FGN_CASE);
    e = expect_entry(&t, "FGN", id_conflict, "submit_case", "fiscal.ruiz", "FAILED_PRECONDITION",
                     0);
    expect_cases(e, 1, FGN_CASE);
    e = expect_entry(&t, "FGN", id_invalid, "submit_case", "fiscal.ruiz", "INVALID_ARGUMENT", 0);
    expect_cases(e, 0, NULL);
    trail_free(&t);
    ritra__response__free_unpacked(ok, NULL);
    ritra__response__free_unpacked(conflict, NULL);
    ritra__response__free_unpacked(invalid, NULL);
}

static void test_submit_cases_leaves_one_entry_plus_one_per_stored_item(void **state)
{
    struct case_fixture f[3];
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SubmitCasesRequest batch = RITRA__SUBMIT_CASES_REQUEST__INIT;
    Ritra__SubmitCaseRequest items[3], *ptrs[3];
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t n_items = 0;
    char ids[2][37];
    uint64_t id;

    (void)state;
    for (int i = 0; i < 3; i++) {
        char ref[32];

        snprintf(ref, sizeof(ref), "FGN-AUD-B%d", i);
        case_fixture_init(&f[i], ref, i);
        ritra__submit_case_request__init(&items[i]);
        items[i].case_ = &f[i].c;
        ptrs[i] = &items[i];
    }
    f[1].c.handling_code = "H9"; /* refused: not stored */
    batch.n_items = 3;
    batch.items = ptrs;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
    req.submit_cases = &batch;
    req.actor = "fiscal.ruiz";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    assert_int_equal(resp->submit_cases->items[0]->status->code, RITRA__STATUS_CODE__OK);
    assert_int_equal(resp->submit_cases->items[1]->status->code,
                     RITRA__STATUS_CODE__INVALID_ARGUMENT);
    assert_int_equal(resp->submit_cases->items[2]->status->code, RITRA__STATUS_CODE__OK);
    snprintf(ids[0], 37, "%s", resp->submit_cases->items[0]->result->case_id);
    snprintf(ids[1], 37, "%s", resp->submit_cases->items[2]->result->case_id);
    ritra__response__free_unpacked(resp, NULL);

    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 3);
    e = expect_entry(&t, "FGN", id, "submit_cases", "fiscal.ruiz", "OK", 0);
    expect_cases(e, 2, NULL);
    assert_true(has_case(e, ids[0]) && has_case(e, ids[1]));
    for (size_t i = 0; i < t.n; i++) {
        if (!entry_is(t.e[i], "FGN", id) || strcmp(t.e[i]->operation, "submit_cases.item") != 0)
            continue;
        assert_string_equal(t.e[i]->outcome, "OK");
        assert_string_equal(t.e[i]->actor, "fiscal.ruiz");
        expect_cases(t.e[i], 1, NULL);
        assert_true(has_case(t.e[i], ids[n_items]) || has_case(t.e[i], ids[1 - n_items]));
        n_items++;
    }
    assert_int_equal(n_items, 2);
    trail_free(&t);
}

static void test_get_case_records_visibility_and_records(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    static const char missing[] = "0b9d5f0e-7c4f-4d8e-9a55-5f1f6a2b9c01";
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    uint64_t id_ok, id_missing;
    struct trail t = {0};
    Ritra__Response *resp;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    req.actor = "fiscal.ruiz";
    get.case_id = FGN_CASE;
    resp = call(FGN, &req, &id_ok);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);
    get.case_id = (char *)missing;
    resp = call(FGN, &req, &id_missing);
    status_is(resp, RITRA__STATUS_CODE__NOT_FOUND);
    ritra__response__free_unpacked(resp, NULL);

    await_request(from, "FGN", id_missing, &t);
    assert_int_equal(count_request(&t, "FGN", id_ok), 1);
    assert_int_equal(count_request(&t, "FGN", id_missing), 1);
    e = expect_entry(&t, "FGN", id_ok, "get_case", "fiscal.ruiz", "OK", 1);
    expect_cases(e, 1, FGN_CASE);
    assert_string_equal(e->visibility, "FULL");
    e = expect_entry(&t, "FGN", id_missing, "get_case", "fiscal.ruiz", "NOT_FOUND", 0);
    expect_cases(e, 1, missing);
    assert_string_equal(e->visibility, "");
    trail_free(&t);
}

static void test_list_cases_records_every_case_listed(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListCasesRequest list = RITRA__LIST_CASES_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t listed;
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    req.actor = "fiscal.ruiz";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    listed = resp->list_cases->n_cases;
    assert_true(listed >= 4);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    e = expect_entry(&t, "FGN", id, "list_cases", "fiscal.ruiz", "OK", (int)listed);
    expect_cases(e, listed, NULL);
    for (size_t i = 0; i < listed; i++)
        assert_true(has_case(e, resp->list_cases->cases[i]->case_id));
    assert_false(has_case(e, MIG_CASE));
    assert_string_equal(e->visibility, "FULL");
    ritra__response__free_unpacked(resp, NULL);
    trail_free(&t);
}

static void test_close_case_leaves_one_entry(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__CloseCaseRequest close = RITRA__CLOSE_CASE_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
    req.close_case = &close;
    req.actor = "fiscal.ruiz";
    close.case_id = FGN_CLOSED;
    close.cas_status = "Closed";
    close.cas_reasonforcaseclosure = "Archivado";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    e = expect_entry(&t, "FGN", id, "close_case", "fiscal.ruiz", "OK", 0);
    expect_cases(e, 1, FGN_CLOSED);
    trail_free(&t);
}

static void test_sync_pull_records_the_cases_it_returned(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SyncPullRequest pull = RITRA__SYNC_PULL_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t n;
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    req.sync_pull = &pull;
    req.actor = "sync.job";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    n = resp->sync_pull->n_changes;
    assert_true(n >= 4);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    e = expect_entry(&t, "FGN", id, "sync_pull", "sync.job", "OK", (int)n);
    assert_true(has_case(e, FGN_CASE));
    assert_false(has_case(e, MIG_CASE));
    for (size_t i = 0; i < n; i++)
        assert_true(has_case(e, resp->sync_pull->changes[i]->case_id));
    ritra__response__free_unpacked(resp, NULL);
    trail_free(&t);
}

/* A list longer than the entry's 64 case ids: the cases beyond them must
 * not vanish from the trail. Either every case returned is named, or the
 * entry says how many it leaves out (audit.h promises a count in details). */
static void test_a_long_list_accounts_for_every_case_it_returned(void **state)
{
    static struct case_fixture f[70];
    Ritra__SubmitCaseRequest items[70], *ptrs[70];
    Ritra__SubmitCasesRequest batch = RITRA__SUBMIT_CASES_REQUEST__INIT;
    Ritra__ListCasesRequest list = RITRA__LIST_CASES_REQUEST__INIT;
    Ritra__Request req = RITRA__REQUEST__INIT;
    int64_t from;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t listed, named;
    int counted;
    uint64_t id;

    (void)state;
    for (int i = 0; i < 70; i++) {
        char ref[32];

        snprintf(ref, sizeof(ref), "FGN-AUD-L%02d", i);
        case_fixture_init(&f[i], ref, i);
        ritra__submit_case_request__init(&items[i]);
        items[i].case_ = &f[i].c;
        ptrs[i] = &items[i];
    }
    batch.n_items = 70;
    batch.items = ptrs;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
    req.submit_cases = &batch;
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);

    from = chain_head() + 1;
    req = (Ritra__Request)RITRA__REQUEST__INIT;
    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    list.page_size = 200;
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    listed = resp->list_cases->n_cases;
    assert_true(listed > 70);
    ritra__response__free_unpacked(resp, NULL);
    await_request(from, "FGN", id, &t);
    e = expect_entry(&t, "FGN", id, "list_cases", "harness", "OK", (int)listed);
    named = e->n_case_ids;
    counted = strstr(e->details, "more") != NULL;
    trail_free(&t);
    if (named != listed && !counted)
        fail_msg("list_cases returned %zu cases; its entry names %zu and says nothing of the "
                 "other %zu",
                 listed, named, listed - named);
}

/* ShareCase, RespondToShare (accept and reject), RevokeShare. */
static void test_sharing_leaves_one_entry_per_step(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ShareCaseRequest share = RITRA__SHARE_CASE_REQUEST__INIT;
    Ritra__RespondToShareRequest respond = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;
    Ritra__RevokeShareRequest revoke = RITRA__REVOKE_SHARE_REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    uint64_t id_share, id_share2, id_accept, id_reject, id_get, id_revoke;
    int64_t from = chain_head() + 1;
    char grant[64], grant2[64];
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};

    (void)state;
    req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    req.share_case = &share;
    req.actor = "fiscal.ruiz";
    share.case_id = FGN_CASE;
    share.grantee_agency = "PONAL";
    share.level = "FULL";
    share.purpose = "Operativo conjunto";
    resp = call(FGN, &req, &id_share);
    status_is(resp, RITRA__STATUS_CODE__OK);
    snprintf(grant, sizeof(grant), "%s", resp->share_case->grant->grant_id);
    ritra__response__free_unpacked(resp, NULL);
    share.grantee_agency = "MIGRACION";
    resp = call(FGN, &req, &id_share2);
    status_is(resp, RITRA__STATUS_CODE__OK);
    snprintf(grant2, sizeof(grant2), "%s", resp->share_case->grant->grant_id);
    ritra__response__free_unpacked(resp, NULL);

    req = (Ritra__Request)RITRA__REQUEST__INIT;
    req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    req.respond_to_share = &respond;
    req.actor = "intendente.diaz";
    respond.grant_id = grant;
    respond.accept = 1;
    resp = call(PONAL, &req, &id_accept);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);
    respond.grant_id = grant2;
    respond.accept = 0;
    req.actor = "oficial.mora";
    resp = call(MIG, &req, &id_reject);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);

    /* PONAL reads the shared case: the report test counts this access. */
    req = (Ritra__Request)RITRA__REQUEST__INIT;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    req.actor = "intendente.diaz";
    get.case_id = FGN_CASE;
    resp = call(PONAL, &req, &id_get);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);

    req = (Ritra__Request)RITRA__REQUEST__INIT;
    req.op_case = RITRA__REQUEST__OP_REVOKE_SHARE;
    req.revoke_share = &revoke;
    req.actor = "fiscal.ruiz";
    revoke.grant_id = grant;
    resp = call(FGN, &req, &id_revoke);
    status_is(resp, RITRA__STATUS_CODE__OK);
    ritra__response__free_unpacked(resp, NULL);

    await_request(from, "FGN", id_revoke, &t);
    assert_int_equal(count_request(&t, "FGN", id_share), 1);
    assert_int_equal(count_request(&t, "FGN", id_share2), 1);
    assert_int_equal(count_request(&t, "PONAL", id_accept), 1);
    assert_int_equal(count_request(&t, "MIGRACION", id_reject), 1);
    assert_int_equal(count_request(&t, "PONAL", id_get), 1);
    assert_int_equal(count_request(&t, "FGN", id_revoke), 1);
    e = expect_entry(&t, "FGN", id_share, "share_case", "fiscal.ruiz", "OK", 0);
    expect_cases(e, 1, FGN_CASE);
    e = expect_entry(&t, "PONAL", id_accept, "respond_to_share.accept", "intendente.diaz", "OK", 0);
    expect_cases(e, 1, FGN_CASE);
    e = expect_entry(&t, "MIGRACION", id_reject, "respond_to_share.reject", "oficial.mora", "OK",
                     0);
    expect_cases(e, 1, FGN_CASE);
    e = expect_entry(&t, "PONAL", id_get, "get_case", "intendente.diaz", "OK", 1);
    expect_cases(e, 1, FGN_CASE);
    assert_string_equal(e->visibility, "FULL");
    e = expect_entry(&t, "FGN", id_revoke, "revoke_share", "fiscal.ruiz", "OK", 0);
    expect_cases(e, 1, FGN_CASE);
    trail_free(&t);
}

/* A list of grants says which case is shared with whom: like ListCases,
 * its entry names the cases it returned and how many records. */
static void test_list_shares_records_the_grants_it_returned(void **state)
{
    int named, records;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListSharesRequest list = RITRA__LIST_SHARES_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t n;
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_LIST_SHARES;
    req.list_shares = &list;
    req.actor = "fiscal.ruiz";
    list.direction = "given";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    n = resp->list_shares->n_grants;
    assert_true(n >= 2);
    ritra__response__free_unpacked(resp, NULL);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    e = expect_entry(&t, "FGN", id, "list_shares", "fiscal.ruiz", "OK", -1);
    named = has_case(e, FGN_CASE);
    records = e->records;
    trail_free(&t);
    /* Both grants are on FGN_CASE. */
    if (!named || records != (int)n)
        fail_msg("the list_shares entry names FGN_CASE: %s; records %d, expected %zu",
                 named ? "yes" : "no", records, n);
}

static void test_audit_pull_is_itself_recorded(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__AuditPullRequest pull = RITRA__AUDIT_PULL_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    size_t n;
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_AUDIT_PULL;
    req.audit_pull = &pull;
    req.actor = "auditora.lopez";
    pull.case_id = FGN_CASE;
    resp = call(PGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    n = resp->audit_pull->n_entries;
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++)
        assert_true(has_case(resp->audit_pull->entries[i], FGN_CASE));
    ritra__response__free_unpacked(resp, NULL);
    await_request(from, "PGN", id, &t);
    assert_int_equal(count_request(&t, "PGN", id), 1);
    e = expect_entry(&t, "PGN", id, "audit_pull", "auditora.lopez", "OK", (int)n);
    expect_cases(e, 1, FGN_CASE);
    trail_free(&t);
}

/* Search, matching and review: one entry each, with outcome and targets. */
static void test_search_and_matching_operations_each_leave_one_entry(void **state)
{
    static const char unknown[] = "00000000-0000-4000-8000-000000000000";
    Ritra__SearchPersonsRequest sp = RITRA__SEARCH_PERSONS_REQUEST__INIT;
    Ritra__SearchCasesRequest sc = RITRA__SEARCH_CASES_REQUEST__INIT;
    Ritra__CaseMatchesRequest cm = RITRA__CASE_MATCHES_REQUEST__INIT;
    Ritra__ListMatchesRequest lm = RITRA__LIST_MATCHES_REQUEST__INIT;
    Ritra__DecideMatchRequest dm = RITRA__DECIDE_MATCH_REQUEST__INIT;
    Ritra__DecideMatchRequest bad = RITRA__DECIDE_MATCH_REQUEST__INIT;
    Ritra__MergeIdentitiesRequest mi = RITRA__MERGE_IDENTITIES_REQUEST__INIT;
    Ritra__UnmergePersonRequest up = RITRA__UNMERGE_PERSON_REQUEST__INIT;
    struct {
        Ritra__Request req;
        const char *op, *outcome;
        int code;
        uint64_t id;
    } step[8];
    int64_t from = chain_head() + 1;
    struct trail t = {0};
    const Ritra__AuditEntry *e;

    (void)state;
    for (int i = 0; i < 8; i++) {
        ritra__request__init(&step[i].req);
        step[i].req.actor = "investigador.diaz";
    }
    sp.name = "María José Muñoz de la Cruz";
    sp.birth_date = "1994";
    step[0].req.op_case = RITRA__REQUEST__OP_SEARCH_PERSONS;
    step[0].req.search_persons = &sp;
    step[0].op = "search_persons";
    step[0].outcome = "OK";
    sc.country = "CO";
    step[1].req.op_case = RITRA__REQUEST__OP_SEARCH_CASES;
    step[1].req.search_cases = &sc;
    step[1].op = "search_cases";
    step[1].outcome = "OK";
    cm.case_id = FGN_CASE;
    step[2].req.op_case = RITRA__REQUEST__OP_CASE_MATCHES;
    step[2].req.case_matches = &cm;
    step[2].op = "case_matches";
    step[2].outcome = "OK";
    step[3].req.op_case = RITRA__REQUEST__OP_LIST_MATCHES;
    step[3].req.list_matches = &lm;
    step[3].op = "list_matches";
    step[3].outcome = "OK";
    dm.candidate_id = (char *)unknown;
    dm.decision = "REJECT";
    dm.reason = "Otra persona";
    step[4].req.op_case = RITRA__REQUEST__OP_DECIDE_MATCH;
    step[4].req.decide_match = &dm;
    step[4].op = "decide_match";
    step[4].outcome = "NOT_FOUND";
    mi.identity_id = (char *)unknown;
    mi.other_identity_id = "00000000-0000-4000-8000-000000000001";
    mi.reason = "Misma persona";
    step[5].req.op_case = RITRA__REQUEST__OP_MERGE_IDENTITIES;
    step[5].req.merge_identities = &mi;
    step[5].op = "merge_identities";
    step[5].outcome = "NOT_FOUND";
    up.person_id = (char *)unknown;
    up.reason = "Homónimo";
    step[6].req.op_case = RITRA__REQUEST__OP_UNMERGE_PERSON;
    step[6].req.unmerge_person = &up;
    step[6].op = "unmerge_person";
    step[6].outcome = "NOT_FOUND";
    bad.candidate_id = "nope";
    bad.decision = "CONFIRM";
    bad.reason = "";
    step[7].req.op_case = RITRA__REQUEST__OP_DECIDE_MATCH;
    step[7].req.decide_match = &bad;
    step[7].op = "decide_match";
    step[7].outcome = "INVALID_ARGUMENT";
    for (int i = 0; i < 8; i++)
        ritra__response__free_unpacked(call(FGN, &step[i].req, &step[i].id), NULL);
    for (int i = 0; i < 8; i++) {
        await_request(from, "FGN", step[i].id, &t);
        assert_int_equal(count_request(&t, "FGN", step[i].id), 1);
        e = expect_entry(&t, "FGN", step[i].id, step[i].op, "investigador.diaz", step[i].outcome,
                         -1);
        if (i == 0) /* the search parameters are the target */
            assert_non_null(strstr(e->details, "Muñoz de la Cruz"));
        if (i == 2) /* the case asked about, then its related cases */
            assert_string_equal(e->case_ids[0], FGN_CASE);
        if (i == 4)
            assert_non_null(strstr(e->details, unknown));
        trail_free(&t);
        memset(&t, 0, sizeof(t));
    }
}

static void test_bad_utf8_actor_is_refused_and_recorded_safely(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    Ritra__Response *resp;
    struct trail t = {0};
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    req.actor = "ana\xff\xfe\x01x\xc3";
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT);
    ritra__response__free_unpacked(resp, NULL);
    await_request(from, "FGN", id, &t);
    assert_int_equal(count_request(&t, "FGN", id), 1);
    /* Invalid bytes and control characters as '?': valid UTF-8 to store. */
    e = expect_entry(&t, "FGN", id, "ping", "ana???x?", "INVALID_ARGUMENT", 0);
    expect_cases(e, 0, NULL);
    trail_free(&t);
}

static void cert_fingerprint(const char *name, char out[65])
{
    char path[400];
    unsigned char md[32];
    unsigned int n = 0;
    FILE *f;
    X509 *x;

    snprintf(path, sizeof(path), "%s/%s.crt", H.pki, name);
    f = fopen(path, "r");
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    X509_free(x);
}

/* Refusals are recorded without holding up the refusal: poll for them. */
static const Ritra__AuditEntry *await_connect(int64_t from, const char *fp, struct trail *t)
{
    Ritra__AuditPullRequest q = RITRA__AUDIT_PULL_REQUEST__INIT;
    long long deadline = harness_now_ms() + 15000;
    const Ritra__AuditEntry *found = NULL;
    size_t n = 0;

    q.operation = "connect";
    for (;;) {
        trail_pull(PGN, &q, from, t);
        for (size_t i = 0; i < t->n; i++) {
            if (strcmp(t->e[i]->cert_fingerprint, fp) == 0) {
                found = t->e[i];
                n++;
            }
        }
        if (found != NULL)
            break;
        trail_free(t);
        if (harness_now_ms() > deadline)
            fail_msg("no connect entry for certificate %s within 15 s", fp);
        usleep(100000);
    }
    assert_int_equal(n, 1);
    return found;
}

static void test_refused_connections_are_recorded(void **state)
{
    struct ritra_ping_result pr;
    struct ritra_error err;
    struct ritra_conn *c;
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    struct trail t = {0};
    char fp[65];

    (void)state;
    /* A certificate the CA issued but the registry does not know. */
    c = harness_connect(&H, "unregistered", &err);
    assert_true(c == NULL || ritra_ping(c, &pr, &err) < 0);
    assert_int_equal(err.code, RITRA__STATUS_CODE__UNAUTHENTICATED);
    ritra_close(c);
    cert_fingerprint("unregistered", fp);
    e = await_connect(from, fp, &t);
    assert_string_equal(e->outcome, "UNAUTHENTICATED");
    assert_string_equal(e->agency, "");
    assert_string_equal(e->actor, "");
    assert_int_equal(e->request_id, 0);
    expect_cases(e, 0, NULL);
    assert_non_null(strstr(e->details, "\"reason\""));
    trail_free(&t);

    /* A revoked one, refused by TLS: the pin still names FGN. */
    c = harness_connect(&H, "revoked", &err);
    assert_true(c == NULL || ritra_ping(c, &pr, &err) < 0);
    ritra_close(c);
    cert_fingerprint("revoked", fp);
    e = await_connect(from, fp, &t);
    assert_string_equal(e->outcome, "UNAUTHENTICATED");
    assert_string_equal(e->agency, "FGN");
    assert_string_equal(e->operation, "connect");
    trail_free(&t);
}

/* Request ids are uint64 (docs/protocol.md): the largest is as valid as
 * any, is served, and recorded as sent; pipelined neighbours, whose
 * entries may share its audit batch, are not disturbed. */
static void test_largest_request_id_is_served_and_recorded(void **state)
{
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    Ritra__Request reqs[3], *ptrs[3];
    Ritra__Response *resps[3];
    int64_t from = chain_head() + 1;
    const Ritra__AuditEntry *e;
    struct ritra_error err;
    struct trail t = {0};

    (void)state;
    for (int i = 0; i < 3; i++) {
        ritra__request__init(&reqs[i]);
        reqs[i].op_case = RITRA__REQUEST__OP_PING;
        reqs[i].ping = &ping;
        reqs[i].id = ++last_id;
        ptrs[i] = &reqs[i];
    }
    reqs[1].id = UINT64_MAX;
    assert_int_equal(ritra_call_batch(PONAL, ptrs, 3, resps, &err), 0);
    for (int i = 0; i < 3; i++) {
        int code = (int)resps[i]->status->code;

        ritra__response__free_unpacked(resps[i], NULL);
        if (code != RITRA__STATUS_CODE__OK)
            fail_msg("ping %d (id %" PRIu64 ") answered %s", i, reqs[i].id,
                     ritra_status_name(code));
    }
    await_request(from, "PONAL", UINT64_MAX, &t);
    e = expect_entry(&t, "PONAL", UINT64_MAX, "ping", "harness", "OK", 0);
    assert_true(e->request_id == UINT64_MAX);
    trail_free(&t);
}

/* ---- who may pull what ---- */

static void test_auditor_pulls_everything_others_only_their_cases(void **state)
{
    struct trail all = {0}, fgn = {0}, ponal = {0};
    int seen_ponal_on_fgn_case = 0, seen_mig_case = 0, seen_connect = 0;

    (void)state;
    quiesce();
    trail_pull(PGN, NULL, 1, &all);
    /* Everything, in chain order from seq 1. */
    assert_true(all.n >= 30);
    for (size_t i = 0; i < all.n; i++) {
        assert_int_equal(all.e[i]->seq, (int64_t)i + 1);
        seen_mig_case |= has_case(all.e[i], MIG_CASE);
        seen_connect |= strcmp(all.e[i]->operation, "connect") == 0;
    }
    assert_true(seen_mig_case && seen_connect);

    /* FGN: the entries that concern its own cases, whoever acted. */
    trail_pull(FGN, NULL, 1, &fgn);
    assert_true(fgn.n >= 10);
    for (size_t i = 0; i < fgn.n; i++) {
        const Ritra__AuditEntry *e = fgn.e[i];
        char q[4096];
        size_t len;

        assert_true(e->n_case_ids > 0);
        len = (size_t)snprintf(q, sizeof(q),
                               "SELECT count(*) FROM cases c JOIN agencies a ON a.agency_id ="
                               " c.owner_agency_id WHERE a.code = 'FGN' AND c.case_id = ANY('{");
        for (size_t k = 0; k < e->n_case_ids && len + 80 < sizeof(q); k++)
            len += (size_t)snprintf(q + len, sizeof(q) - len, "%s%s", k ? "," : "", e->case_ids[k]);
        snprintf(q + len, sizeof(q) - len, "}'::uuid[])");
        if (sql_int(q) == 0)
            fail_msg("FGN pulled seq %" PRId64 " (%s by %s), about no case of its own", e->seq,
                     e->operation, e->agency);
        seen_ponal_on_fgn_case |= strcmp(e->agency, "PONAL") == 0;
    }
    assert_true(seen_ponal_on_fgn_case);
    assert_true(fgn.n < all.n);

    /* PONAL owns no case: it sees nothing, not even its own reads. */
    trail_pull(PONAL, NULL, 1, &ponal);
    assert_int_equal(ponal.n, 0);
    trail_free(&all);
    trail_free(&fgn);
    trail_free(&ponal);
}

static int DIRTY_CPS; /* stand-in checkpoints to remove */

static int drop_stand_ins(void **state)
{
    (void)state;
    if (DIRTY_CPS) {
        if (PQtransactionStatus(ADMIN) != PQTRANS_IDLE)
            PQclear(PQexec(ADMIN, "ROLLBACK"));
        sql_ok("BEGIN; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER;"
               " DELETE FROM audit_checkpoints WHERE key_id = 'stand-in';"
               " ALTER TABLE audit_checkpoints ENABLE TRIGGER USER; COMMIT");
        DIRTY_CPS = 0;
    }
    return 0;
}

/* An AuditPull answer carries the checkpoints covering its entries (and
 * the latest): with a checkpoint at every seq, a page of 100 entries from
 * seq 1 must bring the checkpoints at 1 to 100, not 200 others. */
static void test_pull_sends_the_checkpoints_covering_its_entries(void **state)
{
    Ritra__AuditPullRequest q = RITRA__AUDIT_PULL_REQUEST__INIT;
    Ritra__Response *resp;
    struct ritra_error err;
    char have[101] = {0};
    int missing = 0;

    (void)state;
    /* A trail long enough for the answer's limit of 200 to bite. */
    if (chain_head() < 300) {
        Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
        Ritra__Request reqs[300], *ptrs[300];
        Ritra__Response *resps[300];

        for (int i = 0; i < 300; i++) {
            ritra__request__init(&reqs[i]);
            reqs[i].op_case = RITRA__REQUEST__OP_PING;
            reqs[i].ping = &ping;
            reqs[i].id = ++last_id;
            ptrs[i] = &reqs[i];
        }
        assert_int_equal(ritra_call_batch(PONAL, ptrs, 300, resps, &err), 0);
        for (int i = 0; i < 300; i++)
            ritra__response__free_unpacked(resps[i], NULL);
    }
    quiesce();
    assert_true(chain_head() >= 300);
    /* Stand-ins for a long-running trail's many checkpoints (their
     * signatures are not what this is about). */
    DIRTY_CPS = 1;
    sql_ok("BEGIN; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER;"
           " INSERT INTO audit_checkpoints (seq, hash, signature, key_id)"
           "   SELECT seq, hash, '\\x00', 'stand-in' FROM audit_chain"
           "   WHERE seq NOT IN (SELECT seq FROM audit_checkpoints);"
           " ALTER TABLE audit_checkpoints ENABLE TRIGGER USER; COMMIT");
    q.from_seq = 1;
    q.limit = 100;
    if (ritra_audit_pull(PGN, &q, &resp, &err) < 0)
        fail_msg("AuditPull: %s", err.message);
    assert_int_equal(resp->audit_pull->n_entries, 100);
    for (size_t i = 0; i < resp->audit_pull->n_checkpoints; i++)
        if (resp->audit_pull->checkpoints[i]->seq <= 100)
            have[resp->audit_pull->checkpoints[i]->seq] = 1;
    for (int i = 1; i <= 100; i++)
        missing += !have[i];
    ritra__response__free_unpacked(resp, NULL);
    drop_stand_ins(NULL);
    if (missing > 0)
        fail_msg("%d of the checkpoints at seq 1 to 100 are missing from the answer", missing);
}

/* ---- the database's own guarantees ---- */

static void expect_denied(PGconn *pg, const char *q, const char *needle)
{
    PGresult *r = PQexec(pg, q);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    if (PQresultStatus(r) != PGRES_FATAL_ERROR || state == NULL || strcmp(state, "42501") != 0 ||
        strstr(PQresultErrorMessage(r), needle) == NULL)
        fail_msg("expected \"%s\" (42501) from: %s\ngot %s: %s", needle, q,
                 PQresStatus(PQresultStatus(r)), PQresultErrorMessage(r));
    PQclear(r);
}

static void test_server_role_can_only_insert_into_the_trail(void **state)
{
    static const char *const tables[] = {"audit_log", "audit_chain", "audit_checkpoints"};
    PGconn *app = PQconnectdb(H.db_app);
    char q[300];

    (void)state;
    assert_int_equal(PQstatus(app), CONNECTION_OK);
    for (size_t i = 0; i < 3; i++) {
        snprintf(q, sizeof(q), "UPDATE %s SET seq = seq", tables[i]);
        if (i == 0)
            snprintf(q, sizeof(q), "UPDATE audit_log SET actor = 'mallory'");
        expect_denied(app, q, "permission denied");
        snprintf(q, sizeof(q), "DELETE FROM %s", tables[i]);
        expect_denied(app, q, "permission denied");
        snprintf(q, sizeof(q), "TRUNCATE %s", tables[i]);
        expect_denied(app, q, "permission denied");
    }
    /* Reads go through ritra_audit_pull, which applies the access rule. */
    expect_denied(app, "SELECT * FROM audit_log", "permission denied");
    expect_denied(app, "SELECT * FROM audit_chain", "permission denied");
    /* Nor can it forge chain positions or drop entries from the queue. */
    expect_denied(app, "INSERT INTO audit_chain VALUES (999999, 1, sha256(''), sha256(''))",
                  "permission denied");
    expect_denied(app, "DELETE FROM audit_pending", "permission denied");
    PQfinish(app);
}

static void test_guard_triggers_refuse_changes_even_to_the_superuser(void **state)
{
    (void)state;
    quiesce();
    expect_denied(ADMIN, "UPDATE audit_log SET actor = 'mallory' WHERE entry_id = 1",
                  "append-only");
    expect_denied(ADMIN, "DELETE FROM audit_log WHERE entry_id = 1", "append-only");
    expect_denied(ADMIN, "UPDATE audit_chain SET hash = sha256('') WHERE seq = 1", "append-only");
    expect_denied(ADMIN, "DELETE FROM audit_chain WHERE seq = 1", "append-only");
    expect_denied(ADMIN, "DELETE FROM audit_checkpoints", "append-only");
    expect_denied(ADMIN, "TRUNCATE audit_checkpoints", "append-only");
}

/* ---- no access without its entry ---- */

static void test_failed_audit_write_fails_the_request(void **state)
{
    struct case_fixture f;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    Ritra__Response *resp;
    uint64_t id;

    (void)state;
    sql_ok("ALTER TABLE audit_log ADD CONSTRAINT test_block"
           " CHECK (operation <> 'submit_case') NOT VALID");
    case_fixture_init(&f, "FGN-AUD-BLOCKED", 0);
    resp = submit(FGN, &f, 0, "fiscal.ruiz", &id);
    if (resp->status->code == RITRA__STATUS_CODE__OK)
        fail_msg("SubmitCase answered OK although its audit entry could not be written");
    assert_null(resp->submit_case);
    ritra__response__free_unpacked(resp, NULL);
    /* Nothing of it was committed: neither the case nor any entry. */
    assert_int_equal(sql_int("SELECT count(*) FROM cases WHERE external_ref = 'FGN-AUD-BLOCKED'"),
                     0);
    assert_int_equal(
        sql_int("SELECT count(*) FROM audit_log WHERE details LIKE '%FGN-AUD-BLOCKED%'"), 0);
    sql_ok("ALTER TABLE audit_log DROP CONSTRAINT test_block");

    /* A read whose entry cannot be written is not served. */
    sql_ok("ALTER TABLE audit_log ADD CONSTRAINT test_block"
           " CHECK (operation <> 'get_case') NOT VALID");
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    get.case_id = FGN_CASE;
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__UNAVAILABLE);
    assert_null(resp->get_case);
    assert_int_equal(resp->result_case, RITRA__RESPONSE__RESULT__NOT_SET);
    ritra__response__free_unpacked(resp, NULL);
    sql_ok("ALTER TABLE audit_log DROP CONSTRAINT test_block");

    /* Unblocked, both work again. */
    resp = submit(FGN, &f, 0, "fiscal.ruiz", &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    assert_true(resp->submit_case->created);
    ritra__response__free_unpacked(resp, NULL);
    resp = call(FGN, &req, &id);
    status_is(resp, RITRA__STATUS_CODE__OK);
    assert_non_null(resp->get_case->case_);
    ritra__response__free_unpacked(resp, NULL);
}

/* ---- the CLI: pull, verify, report ---- */

static void pubkey_path(char *buf, size_t size)
{
    snprintf(buf, size, "%s/audit-signing.pub", H.pki);
}

/* Seqs of a JSON Lines file of entries or checkpoints, in file order. */
static size_t seqs_of(const char *path, int64_t **out)
{
    struct json_object **lines;
    size_t n = jsonl(path, &lines);

    *out = calloc(n + 1, sizeof(**out));
    assert_non_null(*out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = jint(lines[i], "seq");
    jsonl_free(lines, n);
    return n;
}

static void expect_ok_verdict(const char *entries, const char *cps, int64_t n_entries)
{
    struct run r;
    char pub[400], want[200];

    pubkey_path(pub, sizeof(pub));
    run(&r, "PGN", "audit", "verify", "--entries", entries, "--checkpoints", cps, "--pubkey", pub,
        NULL);
    expect_exit(&r, 0);
    snprintf(want, sizeof(want), "OK: %" PRId64 " entries, chain intact up to seq ", n_entries);
    if (strncmp(r.out, want, strlen(want)) != 0 || strstr(r.out, " checkpoints verified\n") == NULL)
        fail_msg("unexpected verdict: %s", r.out);
    run_free(&r);
}

static void test_cli_pull_pages_resumes_from_its_state_and_verifies(void **state)
{
    char st[400], out[400], cps[400], pub[400], from[32], want[200];
    int64_t *seqs, *cp_seqs, anchor = 0;
    size_t n, n_cps, n2;
    struct run r;
    long long next = 0;
    FILE *f;

    (void)state;
    path_in_dir(st, sizeof(st), "pull.state");
    path_in_dir(out, sizeof(out), "pull.jsonl");
    path_in_dir(cps, sizeof(cps), "pull.cps");
    pubkey_path(pub, sizeof(pub));
    quiesce();
    run(&r, "PGN", "audit", "pull", "--state", st, "--limit", "7", "--out", out, "--checkpoints",
        cps, NULL);
    expect_exit(&r, 0);
    n = seqs_of(out, &seqs);
    assert_true(n > 14); /* several pages */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seqs[i], (int64_t)i + 1);
    snprintf(want, sizeof(want), "%zu entries, ", n);
    assert_memory_equal(r.err, want, strlen(want));
    f = fopen(st, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lld", &next), 1);
    fclose(f);
    assert_int_equal(next, (long long)n + 1);
    free(seqs);
    run_free(&r);

    /* Again: only what was chained since, appended after the rest. */
    quiesce();
    run(&r, "PGN", "audit", "pull", "--state", st, "--out", out, "--checkpoints", cps, NULL);
    expect_exit(&r, 0);
    n2 = seqs_of(out, &seqs);
    assert_true(n2 > n);
    for (size_t i = 0; i < n2; i++)
        assert_int_equal(seqs[i], (int64_t)i + 1);
    free(seqs);
    run_free(&r);
    /* Each checkpoint once. */
    n_cps = seqs_of(cps, &cp_seqs);
    assert_true(n_cps >= 2);
    for (size_t i = 0; i < n_cps; i++)
        for (size_t k = i + 1; k < n_cps; k++)
            assert_true(cp_seqs[i] != cp_seqs[k]);
    expect_ok_verdict(out, cps, (int64_t)n2);

    /* A pull that starts right after a checkpoint verifies on its own. */
    for (size_t i = 0; i < n_cps; i++)
        if (cp_seqs[i] < (int64_t)n2 && cp_seqs[i] > anchor)
            anchor = cp_seqs[i];
    assert_true(anchor > 0);
    free(cp_seqs);
    path_in_dir(out, sizeof(out), "suffix.jsonl");
    snprintf(from, sizeof(from), "%" PRId64, anchor + 1);
    run(&r, "PGN", "audit", "pull", "--from-seq", from, "--out", out, NULL);
    expect_exit(&r, 0);
    run_free(&r);
    n = seqs_of(out, &seqs);
    assert_int_equal(seqs[0], anchor + 1);
    free(seqs);
    expect_ok_verdict(out, cps, (int64_t)n);
}

static void test_cli_csv_quotes_what_needs_quoting(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__PingRequest ping = RITRA__PING_REQUEST__INIT;
    int64_t from = chain_head() + 1;
    struct trail t = {0};
    char out[400];
    struct run r;
    uint64_t id;

    (void)state;
    req.op_case = RITRA__REQUEST__OP_PING;
    req.ping = &ping;
    req.actor = "Pérez, \"El Flaco\"";
    ritra__response__free_unpacked(call(FGN, &req, &id), NULL);
    await_request(from, "FGN", id, &t);
    trail_free(&t);
    path_in_dir(out, sizeof(out), "pings.csv");
    run(&r, "PGN", "audit", "pull", "--format", "csv", "--operation", "ping", "--actor",
        "Pérez, \"El Flaco\"", "--out", out, NULL);
    expect_exit(&r, 0);
    run_free(&r);
    {
        char *csv = read_file(out), line[200];

        snprintf(line, sizeof(line), ",FGN,");
        assert_memory_equal(csv,
                            "seq,time,agency,cert_fingerprint,actor,operation,case_ids,details,"
                            "outcome,records,visibility,request_id,prev_hash,hash\r\n",
                            strlen("seq,time,agency,cert_fingerprint,actor,operation,case_ids,"
                                   "details,outcome,records,visibility,request_id,prev_hash,"
                                   "hash\r\n"));
        assert_non_null(strstr(csv, ",\"Pérez, \"\"El Flaco\"\"\",ping,,"));
        snprintf(line, sizeof(line), ",OK,0,,%" PRIu64 ",", id);
        assert_non_null(strstr(csv, line));
        assert_int_equal(csv[strlen(csv) - 1], '\n');
        assert_int_equal(csv[strlen(csv) - 2], '\r');
        free(csv);
    }
}

static struct json_object *report_group(struct json_object **lines, size_t n, const char *case_id,
                                        const char *agency)
{
    for (size_t i = 0; i < n; i++) {
        struct json_object *c, *a;

        if (json_object_object_get_ex(lines[i], "case_id", &c) &&
            json_object_object_get_ex(lines[i], "agency", &a) &&
            strcmp(json_object_get_string(c), case_id) == 0 &&
            strcmp(json_object_get_string(a), agency) == 0)
            return lines[i];
    }
    fail_msg("no report line for case %s and agency %s", case_id, agency);
    return NULL;
}

static void test_cli_report_groups_accesses_by_case_and_agency(void **state)
{
    struct json_object **lines, *g, *ops, *v;
    char entries[400], rep[400];
    struct run r;
    size_t n;

    (void)state;
    quiesce();
    path_in_dir(entries, sizeof(entries), "report.jsonl");
    run(&r, "PGN", "audit", "pull", "--out", entries, NULL);
    expect_exit(&r, 0);
    run_free(&r);
    run(&r, "PGN", "audit", "report", "--entries", entries, "--json", NULL);
    expect_exit(&r, 0);
    path_in_dir(rep, sizeof(rep), "report.out");
    {
        FILE *f = fopen(rep, "w");

        assert_non_null(f);
        fputs(r.out, f);
        fclose(f);
    }
    run_free(&r);
    n = jsonl(rep, &lines);
    /* PONAL accepted the offer on FGN_CASE and read it once. */
    g = report_group(lines, n, FGN_CASE, "PONAL");
    ops = json_object_object_get(g, "operations");
    assert_int_equal(jint(ops, "get_case"), 1);
    assert_int_equal(jint(ops, "respond_to_share.accept"), 1);
    assert_int_equal(jint(g, "accesses"), 2);
    assert_int_equal(jint(g, "failed"), 0);
    v = json_object_object_get(g, "actors");
    assert_int_equal(json_object_array_length(v), 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "intendente.diaz");
    assert_true(strcmp(json_object_get_string(json_object_object_get(g, "first")),
                       json_object_get_string(json_object_object_get(g, "last"))) < 0);
    /* FGN's own work on it, failures included (the conflicting submission). */
    g = report_group(lines, n, FGN_CASE, "FGN");
    ops = json_object_object_get(g, "operations");
    assert_true(jint(ops, "submit_case") >= 2);
    assert_true(jint(g, "failed") >= 1);
    jsonl_free(lines, n);

    /* The text form: a header, then a line per case and agency. */
    run(&r, "PGN", "audit", "report", "--entries", entries, "--to", "2000-01-01", NULL);
    expect_exit(&r, 0);
    assert_memory_equal(r.out, "CASE_ID ", 8);
    assert_ptr_equal(strchr(r.out, '\n'), r.out + strlen(r.out) - 1); /* nothing before 2000 */
    run_free(&r);
}

/* ---- tampering as the superuser ---- */

/*
 * One scenario: pull the trail and its checkpoints (files 1), back the
 * audit tables up, tamper, pull again (file 2), verify file 2 against the
 * checkpoints of file 1, then restore the tables and check that the
 * restored trail verifies again (so the next scenario starts clean and the
 * failure was the tampering's doing, not the verifier's).
 */
struct scene {
    char e1[400], c1[400], e2[400];
    int64_t head; /* the last seq of file 1, which a checkpoint covers */
    int64_t *cps; /* checkpoint seqs in c1, ascending */
    size_t n_cps;
};

static int DIRTY; /* tables tampered with and not yet restored */

static int cmp_seq(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void scene_begin(struct scene *s, const char *name)
{
    char file[64];
    int64_t *seqs;
    size_t n;
    struct run r;

    memset(s, 0, sizeof(*s));
    snprintf(file, sizeof(file), "%s-1.jsonl", name);
    path_in_dir(s->e1, sizeof(s->e1), file);
    snprintf(file, sizeof(file), "%s-1.cps", name);
    path_in_dir(s->c1, sizeof(s->c1), file);
    snprintf(file, sizeof(file), "%s-2.jsonl", name);
    path_in_dir(s->e2, sizeof(s->e2), file);
    quiesce();
    run(&r, "PGN", "audit", "pull", "--limit", "5000", "--out", s->e1, "--checkpoints", s->c1,
        NULL);
    expect_exit(&r, 0);
    run_free(&r);
    n = seqs_of(s->e1, &seqs);
    assert_true(n > 50);
    s->head = seqs[n - 1];
    free(seqs);
    s->n_cps = seqs_of(s->c1, &s->cps);
    qsort(s->cps, s->n_cps, sizeof(*s->cps), cmp_seq);
    assert_true(s->n_cps >= 3);
    assert_int_equal(s->cps[s->n_cps - 1], s->head);
    /* The pull's own entry chained and signed: nothing moves from here on. */
    quiesce();
    sql_ok("BEGIN; SELECT pg_advisory_xact_lock(" CHAIN_LOCK ");"
           " DROP TABLE IF EXISTS bk_log, bk_chain, bk_cp;"
           " CREATE TABLE bk_log AS SELECT * FROM audit_log;"
           " CREATE TABLE bk_chain AS SELECT * FROM audit_chain;"
           " CREATE TABLE bk_cp AS SELECT * FROM audit_checkpoints; COMMIT");
}

/* What an attacker with the superuser's password does: switch the guards
 * off (all triggers, foreign keys included, when all is set), change the
 * trail, switch them back on. Holding the chainer's lock keeps the server
 * from chaining in the middle of it. */
static void tamper(int all, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tamper(int all, const char *fmt, ...)
{
    const char *which = all ? "ALL" : "USER";
    char body[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    DIRTY = 1;
    sqlf("BEGIN; SELECT pg_advisory_xact_lock(" CHAIN_LOCK ");"
         " ALTER TABLE audit_log DISABLE TRIGGER %s;"
         " ALTER TABLE audit_chain DISABLE TRIGGER %s;"
         " ALTER TABLE audit_checkpoints DISABLE TRIGGER %s;"
         " %s;"
         " ALTER TABLE audit_log ENABLE TRIGGER %s;"
         " ALTER TABLE audit_chain ENABLE TRIGGER %s;"
         " ALTER TABLE audit_checkpoints ENABLE TRIGGER %s; COMMIT",
         which, which, which, body, which, which, which);
}

/* Puts the backed-up trail back; entries written since are queued to be
 * chained again after it (the attacker's own rows, actor "mallory", go). */
static void restore_trail(void)
{
    sql_ok("BEGIN; SELECT pg_advisory_xact_lock(" CHAIN_LOCK ");"
           " ALTER TABLE audit_log DISABLE TRIGGER ALL;"
           " ALTER TABLE audit_chain DISABLE TRIGGER ALL;"
           " ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL;"
           " CREATE TEMP TABLE newer ON COMMIT DROP AS SELECT entry_id FROM audit_log"
           "   WHERE entry_id > (SELECT max(entry_id) FROM bk_log) AND actor <> 'mallory';"
           " DELETE FROM audit_checkpoints; DELETE FROM audit_chain; DELETE FROM audit_pending;"
           " DELETE FROM audit_log WHERE entry_id NOT IN (SELECT entry_id FROM newer);"
           " INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM bk_log;"
           " INSERT INTO audit_chain SELECT * FROM bk_chain;"
           " INSERT INTO audit_checkpoints SELECT * FROM bk_cp;"
           " INSERT INTO audit_pending SELECT entry_id FROM newer ORDER BY entry_id;"
           " ALTER TABLE audit_log ENABLE TRIGGER ALL;"
           " ALTER TABLE audit_chain ENABLE TRIGGER ALL;"
           " ALTER TABLE audit_checkpoints ENABLE TRIGGER ALL; COMMIT");
    DIRTY = 0;
}

static int restore_if_dirty(void **state)
{
    (void)state;
    if (DIRTY) {
        if (PQtransactionStatus(ADMIN) != PQTRANS_IDLE)
            PQclear(PQexec(ADMIN, "ROLLBACK"));
        restore_trail();
    }
    return 0;
}

/* Pulls the tampered trail and expects verify to name seq. */
static void expect_fail_at(struct scene *s, int64_t seq, const char *reason)
{
    char pub[400], want[80];
    struct run r;

    run(&r, "PGN", "audit", "pull", "--limit", "5000", "--out", s->e2, NULL);
    expect_exit(&r, 0);
    run_free(&r);
    pubkey_path(pub, sizeof(pub));
    run(&r, "PGN", "audit", "verify", "--entries", s->e2, "--checkpoints", s->c1, "--pubkey", pub,
        NULL);
    expect_exit(&r, 1);
    snprintf(want, sizeof(want), "FAIL at seq %" PRId64 ": ", seq);
    if (strncmp(r.out, want, strlen(want)) != 0 || strstr(r.out, reason) == NULL)
        fail_msg("expected \"%s...%s...\", got: %s", want, reason, r.out);
    run_free(&r);
}

static void scene_end(struct scene *s, const char *name)
{
    char file[64], e3[400], c3[400];
    int64_t *seqs;
    size_t n;
    struct run r;

    restore_trail();
    quiesce();
    snprintf(file, sizeof(file), "%s-3.jsonl", name);
    path_in_dir(e3, sizeof(e3), file);
    snprintf(file, sizeof(file), "%s-3.cps", name);
    path_in_dir(c3, sizeof(c3), file);
    run(&r, "PGN", "audit", "pull", "--limit", "5000", "--out", e3, "--checkpoints", c3, NULL);
    expect_exit(&r, 0);
    run_free(&r);
    n = seqs_of(e3, &seqs);
    free(seqs);
    expect_ok_verdict(e3, s->c1, (int64_t)n);
    expect_ok_verdict(e3, c3, (int64_t)n);
    free(s->cps);
}

static void test_verify_names_an_altered_entry(void **state)
{
    struct scene s;
    int64_t k;

    (void)state;
    scene_begin(&s, "alter");
    k = s.head / 2;
    tamper(0,
           "UPDATE audit_log SET actor = 'mallory' WHERE entry_id = (SELECT entry_id FROM "
           "audit_chain WHERE seq = %lld)",
           (long long)k);
    expect_fail_at(&s, k, "hash does not match the entry's content");
    scene_end(&s, "alter");
}

/* Changed and every later hash recomputed, as a careful attacker would:
 * only a signed checkpoint can tell, and the first one after the change
 * is where it shows. */
static void test_verify_catches_a_rechained_change_at_the_next_checkpoint(void **state)
{
    struct scene s;
    int64_t k, at;
    size_t i;

    (void)state;
    scene_begin(&s, "rechain");
    /* Between two checkpoints with room in between, if there are any. */
    for (i = s.n_cps - 1; i > 1 && s.cps[i] - s.cps[i - 1] < 2; i--)
        ;
    k = s.cps[i - 1] + 1;
    at = s.cps[i];
    tamper(0,
           "UPDATE audit_log SET actor = 'mallory'"
           " WHERE entry_id = (SELECT entry_id FROM audit_chain WHERE seq = %lld);"
           " DELETE FROM audit_checkpoints WHERE seq >= %lld;"
           " DO $$ DECLARE r record; h bytea;"
           "   prev bytea := (SELECT hash FROM audit_chain WHERE seq = %lld);"
           " BEGIN"
           "   FOR r IN SELECT c.seq, l AS e FROM audit_chain c JOIN audit_log l"
           "       USING (entry_id) WHERE c.seq >= %lld ORDER BY c.seq LOOP"
           "     h := sha256(prev || ritra_audit_canonical(r.seq, r.e));"
           "     UPDATE audit_chain SET prev_hash = prev, hash = h WHERE seq = r.seq;"
           "     prev := h;"
           "   END LOOP;"
           " END $$",
           (long long)k, (long long)k, (long long)(k - 1), (long long)k);
    expect_fail_at(&s, at, "differs from the signed checkpoint");
    scene_end(&s, "rechain");
}

static void test_verify_names_a_deleted_entry(void **state)
{
    struct scene s;
    int64_t k;

    (void)state;
    scene_begin(&s, "delete");
    k = s.head / 3;
    tamper(0,
           "DELETE FROM audit_checkpoints WHERE seq = %lld;"
           " WITH c AS (DELETE FROM audit_chain WHERE seq = %lld RETURNING entry_id)"
           " DELETE FROM audit_log WHERE entry_id IN (SELECT entry_id FROM c)",
           (long long)k, (long long)k);
    expect_fail_at(&s, k, "entries are missing");
    scene_end(&s, "delete");
}

/* An entry slipped in at k with a correct hash linked to k - 1: on its own
 * it is indistinguishable from a real one, so the first seq that does not
 * check out is k + 1, whose entry still links to the old k - 1. */
static void test_verify_names_the_seq_after_an_inserted_entry(void **state)
{
    struct scene s;
    int64_t k;

    (void)state;
    scene_begin(&s, "insert");
    /* Where no checkpoint is: one at k would tell at k itself. */
    k = s.head / 2;
    for (size_t i = 0; i < s.n_cps; i++)
        k += s.cps[i] == k;
    tamper(0,
           "DELETE FROM audit_checkpoints WHERE seq >= %lld;"
           " UPDATE audit_chain SET seq = seq + 1000000 WHERE seq >= %lld;"
           " UPDATE audit_chain SET seq = seq - 999999 WHERE seq >= 1000000;"
           " INSERT INTO audit_log (at, agency_code, actor, operation, outcome)"
           "   SELECT l.at, 'FGN', 'mallory', 'ping', 'OK' FROM audit_log l"
           "   WHERE l.entry_id = (SELECT entry_id FROM audit_chain WHERE seq = %lld);"
           " INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)"
           "   SELECT %lld, l.entry_id, p.hash, sha256(p.hash || ritra_audit_canonical(%lld, l))"
           "   FROM audit_log l, audit_chain p WHERE l.actor = 'mallory' AND p.seq = %lld",
           (long long)k, (long long)k, (long long)(k - 1), (long long)k, (long long)k,
           (long long)(k - 1));
    expect_fail_at(&s, k + 1, "prev_hash does not match");
    scene_end(&s, "insert");
}

static void test_verify_names_the_first_of_two_swapped_entries(void **state)
{
    struct scene s;
    int64_t a, b;

    (void)state;
    scene_begin(&s, "swap");
    a = s.head / 3;
    b = 2 * s.head / 3;
    tamper(0,
           "UPDATE audit_log l SET at = o.at, agency_id = o.agency_id,"
           " agency_code = o.agency_code, fingerprint = o.fingerprint, actor = o.actor,"
           " operation = o.operation, case_ids = o.case_ids, details = o.details,"
           " outcome = o.outcome, records = o.records, visibility = o.visibility,"
           " request_id = o.request_id"
           " FROM audit_log o, (SELECT a.entry_id, b.entry_id FROM audit_chain a, audit_chain b"
           "   WHERE (a.seq, b.seq) IN ((%lld, %lld), (%lld, %lld))) AS s(x, y)"
           " WHERE l.entry_id = s.x AND o.entry_id = s.y",
           (long long)a, (long long)b, (long long)b, (long long)a);
    expect_fail_at(&s, a, "hash does not match the entry's content");
    scene_end(&s, "swap");
}

static void test_verify_detects_a_truncated_tail(void **state)
{
    struct scene s;
    int64_t t;

    (void)state;
    scene_begin(&s, "truncate");
    t = s.head - 2;
    /* The last entries go, and the checkpoints that covered them. */
    tamper(0,
           "DELETE FROM audit_checkpoints WHERE seq > %lld;"
           " WITH c AS (DELETE FROM audit_chain WHERE seq > %lld RETURNING entry_id)"
           " DELETE FROM audit_log WHERE entry_id IN (SELECT entry_id FROM c)",
           (long long)t, (long long)t);
    expect_fail_at(&s, t + 1, "entries were removed from its end");
    scene_end(&s, "truncate");
}

static void test_verify_detects_a_truncated_tail_whose_checkpoints_remain(void **state)
{
    struct scene s;
    int64_t t;

    (void)state;
    scene_begin(&s, "truncate2");
    t = s.head - 3;
    /* Foreign keys off too: the checkpoints stay, pointing at nothing. */
    tamper(1,
           "WITH c AS (DELETE FROM audit_chain WHERE seq > %lld RETURNING entry_id)"
           " DELETE FROM audit_log WHERE entry_id IN (SELECT entry_id FROM c)",
           (long long)t);
    expect_fail_at(&s, t + 1, "entries were removed from its end");
    scene_end(&s, "truncate2");
}

/* Checkpoints signed with another key, or forged, are not trusted. */
static void test_verify_refuses_foreign_and_forged_checkpoints(void **state)
{
    char other[400], pub[400], forged[400], want[80];
    struct json_object **lines;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    struct scene s;
    struct run r;
    size_t n;
    FILE *f;

    (void)state;
    scene_begin(&s, "keys");
    sql_ok("DROP TABLE bk_log, bk_chain, bk_cp"); /* nothing to restore here */
    path_in_dir(other, sizeof(other), "other.pub");
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &key), 1);
    f = fopen(other, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, key), 1);
    fclose(f);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    pubkey_path(pub, sizeof(pub));

    run(&r, "PGN", "audit", "verify", "--entries", s.e1, "--checkpoints", s.c1, "--pubkey", other,
        NULL);
    expect_exit(&r, 1);
    snprintf(want, sizeof(want), "FAIL at seq %" PRId64 ": ", s.cps[0]);
    assert_memory_equal(r.out, want, strlen(want));
    assert_non_null(strstr(r.out, "not among the public keys given"));
    run_free(&r);
    /* After a rotation both keys are given; each checkpoint names its own. */
    run(&r, "PGN", "audit", "verify", "--entries", s.e1, "--checkpoints", s.c1, "--pubkey", other,
        "--pubkey", pub, NULL);
    expect_exit(&r, 0);
    run_free(&r);

    /* One checkpoint whose hash was changed: its signature no longer fits. */
    n = jsonl(s.c1, &lines);
    path_in_dir(forged, sizeof(forged), "forged.cps");
    f = fopen(forged, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        if (jint(lines[i], "seq") == s.cps[1])
            json_object_object_add(
                lines[i], "hash",
                json_object_new_string(
                    "0000000000000000000000000000000000000000000000000000000000000000"));
        fprintf(f, "%s\n", json_object_to_json_string_ext(lines[i], JSON_C_TO_STRING_PLAIN));
    }
    fclose(f);
    jsonl_free(lines, n);
    run(&r, "PGN", "audit", "verify", "--entries", s.e1, "--checkpoints", forged, "--pubkey", pub,
        NULL);
    expect_exit(&r, 1);
    snprintf(want, sizeof(want), "FAIL at seq %" PRId64 ": ", s.cps[1]);
    assert_memory_equal(r.out, want, strlen(want));
    assert_non_null(strstr(r.out, "signature does not verify"));
    run_free(&r);
    free(s.cps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_leaves_one_entry),
        cmocka_unit_test(test_submit_case_outcomes_each_leave_one_entry),
        cmocka_unit_test(test_submit_cases_leaves_one_entry_plus_one_per_stored_item),
        cmocka_unit_test(test_get_case_records_visibility_and_records),
        cmocka_unit_test(test_list_cases_records_every_case_listed),
        cmocka_unit_test(test_close_case_leaves_one_entry),
        cmocka_unit_test(test_sync_pull_records_the_cases_it_returned),
        cmocka_unit_test(test_a_long_list_accounts_for_every_case_it_returned),
        cmocka_unit_test(test_sharing_leaves_one_entry_per_step),
        cmocka_unit_test(test_list_shares_records_the_grants_it_returned),
        cmocka_unit_test(test_search_and_matching_operations_each_leave_one_entry),
        cmocka_unit_test(test_audit_pull_is_itself_recorded),
        cmocka_unit_test(test_bad_utf8_actor_is_refused_and_recorded_safely),
        cmocka_unit_test(test_refused_connections_are_recorded),
        cmocka_unit_test(test_largest_request_id_is_served_and_recorded),
        cmocka_unit_test(test_auditor_pulls_everything_others_only_their_cases),
        cmocka_unit_test(test_server_role_can_only_insert_into_the_trail),
        cmocka_unit_test(test_guard_triggers_refuse_changes_even_to_the_superuser),
        cmocka_unit_test(test_failed_audit_write_fails_the_request),
        cmocka_unit_test_teardown(test_pull_sends_the_checkpoints_covering_its_entries,
                                  drop_stand_ins),
        cmocka_unit_test(test_cli_pull_pages_resumes_from_its_state_and_verifies),
        cmocka_unit_test(test_cli_csv_quotes_what_needs_quoting),
        cmocka_unit_test(test_cli_report_groups_accesses_by_case_and_agency),
        cmocka_unit_test_teardown(test_verify_names_an_altered_entry, restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_catches_a_rechained_change_at_the_next_checkpoint,
                                  restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_names_a_deleted_entry, restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_names_the_seq_after_an_inserted_entry,
                                  restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_names_the_first_of_two_swapped_entries,
                                  restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_detects_a_truncated_tail, restore_if_dirty),
        cmocka_unit_test_teardown(test_verify_detects_a_truncated_tail_whose_checkpoints_remain,
                                  restore_if_dirty),
        cmocka_unit_test(test_verify_refuses_foreign_and_forged_checkpoints),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
