/*
 * Row-level security on its own: direct SQL as the server's role
 * (ritra_app), acting for PONAL, against cases FGN stored through the
 * server. A handler bug is simulated by querying with no WHERE clause at
 * all: PostgreSQL alone must keep another agency's invisible rows out of
 * reach, for reading and for writing, and with no agency named nothing
 * is visible. Each statement runs in its own transaction, rolled back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "case_fixture.h"
#include "harness.h"

static struct harness H;
static PGconn *ADMIN, *APP;
static char FGN_ID[16], PONAL_ID[16];
/* FGN's case PONAL may not see, FGN's case shared with PONAL at FULL, PONAL's own,
 * FGN's case shared with PONAL at HIT only. */
static char HIDDEN[40], SHARED[40], OWN[40], HIT[40];
static char HIDDEN_GRANT[40];    /* FGN to MIGRACION, on HIDDEN */
static char HIDDEN_PERSONS[200]; /* 'uuid','uuid' */

/* What one statement did. */
struct outcome {
    ExecStatusType status;
    int rows;         /* rows returned */
    long affected;    /* rows changed */
    char sqlstate[6]; /* "" on success */
    char first[128];  /* first column of the first row */
};

static void exec_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* A single value from a superuser query. */
static void admin_value(const char *sql, char *out, size_t len)
{
    PGresult *r = PQexec(ADMIN, sql);

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static long admin_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long admin_count(const char *fmt, ...)
{
    char sql[1024], v[32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    admin_value(sql, v, sizeof(v));
    return strtol(v, NULL, 10);
}

/*
 * Runs sql as ritra_app in a transaction of its own, acting for agency
 * (NULL: none named), and rolls back whatever it did.
 */
static struct outcome as_app(const char *agency, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct outcome as_app(const char *agency, const char *fmt, ...)
{
    struct outcome o;
    char sql[2048], set[128];
    PGresult *r;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    memset(&o, 0, sizeof(o));
    exec_ok(APP, "BEGIN");
    if (agency != NULL) {
        snprintf(set, sizeof(set), "SELECT set_config('ritra.agency_id', '%s', true)", agency);
        exec_ok(APP, set);
    }
    r = PQexec(APP, sql);
    o.status = PQresultStatus(r);
    if (o.status == PGRES_TUPLES_OK) {
        o.rows = PQntuples(r);
        if (o.rows > 0 && PQnfields(r) > 0)
            snprintf(o.first, sizeof(o.first), "%s", PQgetvalue(r, 0, 0));
    }
    if (o.status == PGRES_COMMAND_OK || o.status == PGRES_TUPLES_OK)
        o.affected = strtol(PQcmdTuples(r), NULL, 10);
    else
        snprintf(o.sqlstate, sizeof(o.sqlstate), "%s",
                 PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                                                         : "?????");
    PQclear(r);
    exec_ok(APP, "ROLLBACK");
    return o;
}

static void expect_rows(const char *agency, int want, const char *sql)
{
    struct outcome o = as_app(agency, "%s", sql);

    if (o.status != PGRES_TUPLES_OK)
        fail_msg("%s: failed with %s", sql, o.sqlstate);
    if (o.rows != want)
        fail_msg("%s: %d rows, expected %d", sql, o.rows, want);
}

/* Changes nothing: either refused (insufficient privilege) or 0 rows. */
static void expect_no_change(const char *agency, const char *sql)
{
    struct outcome o = as_app(agency, "%s", sql);

    if (o.status == PGRES_COMMAND_OK || o.status == PGRES_TUPLES_OK) {
        if (o.affected != 0)
            fail_msg("%s: changed %ld rows", sql, o.affected);
    } else if (strcmp(o.sqlstate, "42501") != 0) {
        fail_msg("%s: failed with %s, expected 42501 or no rows", sql, o.sqlstate);
    }
}

/* Refused outright: insufficient privilege or a row-security violation (42501). */
static void expect_refused(const char *agency, const char *sql)
{
    struct outcome o = as_app(agency, "%s", sql);

    if (o.status == PGRES_COMMAND_OK || o.status == PGRES_TUPLES_OK)
        fail_msg("%s: succeeded (%ld rows)", sql, o.affected);
    if (strcmp(o.sqlstate, "42501") != 0)
        fail_msg("%s: failed with %s, expected 42501", sql, o.sqlstate);
}

/* ---- data, stored through the server ------------------------------------------- */

/* Runs req; 0 when OK (the grant id it made or answered to grant_out). */
static int call_ok(struct ritra_conn *c, Ritra__Request *req, char *grant_out)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    int rc = -1;

    if (ritra_call(c, req, &resp, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    if (resp->status->code == RITRA__STATUS_CODE__OK) {
        if (grant_out != NULL && resp->result_case == RITRA__RESPONSE__RESULT_SHARE_CASE)
            snprintf(grant_out, 40, "%s", resp->share_case->grant->grant_id);
        if (grant_out != NULL && resp->result_case == RITRA__RESPONSE__RESULT_SUBMIT_CASE)
            snprintf(grant_out, 40, "%s", resp->submit_case->case_id);
        rc = 0;
    } else {
        fprintf(stderr, "setup: %s\n", resp->status->message);
    }
    ritra__response__free_unpacked(resp, NULL);
    return rc;
}

static int submit(struct ritra_conn *c, const char *ref, char *id_out)
{
    struct case_fixture f;
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;

    case_fixture_init(&f, ref, 0);
    f.c.handling_code = "H0";
    case_fixture_request(&f, &req, &sub, 0);
    return call_ok(c, &req, id_out);
}

static int share(struct ritra_conn *c, const char *case_id, const char *to, const char *level,
                 char *grant_out)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ShareCaseRequest s = RITRA__SHARE_CASE_REQUEST__INIT;

    s.case_id = (char *)case_id;
    s.grantee_agency = (char *)to;
    s.level = (char *)level;
    s.purpose = "Prueba de seguridad por filas";
    req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    req.share_case = &s;
    return call_ok(c, &req, grant_out);
}

static int accept_grant(struct ritra_conn *c, const char *grant)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RespondToShareRequest r = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;

    r.grant_id = (char *)grant;
    r.accept = 1;
    req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    req.respond_to_share = &r;
    return call_ok(c, &req, NULL);
}

/* A single value from a superuser query; 0 or -1. */
static int admin_text(const char *sql, char *out, size_t len)
{
    PGresult *r = PQexec(ADMIN, sql);
    int rc = -1;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    } else {
        fprintf(stderr, "setup: %s: %s", sql, PQresultErrorMessage(r));
    }
    PQclear(r);
    return rc;
}

/* FGN's two cases and PONAL's own, through the server; then the ids. */
static int store_cases(void)
{
    struct ritra_error err;
    struct ritra_conn *fgn = harness_connect(&H, "FGN", &err);
    struct ritra_conn *ponal = harness_connect(&H, "PONAL", &err);
    char grant[40], sql[512];
    int rc = -1;

    if (fgn == NULL || ponal == NULL || submit(fgn, "RLS-HIDDEN", HIDDEN) < 0 ||
        submit(fgn, "RLS-SHARED", SHARED) < 0 || submit(ponal, "RLS-PONAL-OWN", OWN) < 0 ||
        share(fgn, HIDDEN, "MIGRACION", "FULL", HIDDEN_GRANT) < 0 ||
        share(fgn, SHARED, "PONAL", "FULL", grant) < 0 || accept_grant(ponal, grant) < 0 ||
        submit(fgn, "RLS-HIT", HIT) < 0 || share(fgn, HIT, "PONAL", "HIT", grant) < 0 ||
        accept_grant(ponal, grant) < 0)
        goto out;
    ADMIN = PQconnectdb(H.db_admin);
    APP = PQconnectdb(H.db_app);
    if (PQstatus(ADMIN) != CONNECTION_OK || PQstatus(APP) != CONNECTION_OK) {
        fprintf(stderr, "setup: %s%s", PQerrorMessage(ADMIN), PQerrorMessage(APP));
        goto out;
    }
    snprintf(sql, sizeof(sql),
             "SELECT string_agg(quote_literal(person_id::text), ',') FROM persons"
             " WHERE case_id = '%s'",
             HIDDEN);
    if (admin_text("SELECT agency_id FROM agencies WHERE code = 'FGN'", FGN_ID, sizeof(FGN_ID)) <
            0 ||
        admin_text("SELECT agency_id FROM agencies WHERE code = 'PONAL'", PONAL_ID,
                   sizeof(PONAL_ID)) < 0 ||
        admin_text(sql, HIDDEN_PERSONS, sizeof(HIDDEN_PERSONS)) < 0)
        goto out;
    rc = 0;
out:
    ritra_close(fgn);
    ritra_close(ponal);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    if (harness_start(&H, NULL) < 0)
        return -1;
    if (store_cases() < 0) {
        PQfinish(APP);
        PQfinish(ADMIN);
        harness_stop(&H); /* cmocka runs no teardown after a failed setup */
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(APP);
    PQfinish(ADMIN);
    harness_stop(&H);
    return 0;
}

/* ---- the tests -------------------------------------------------------------------- */

/* The rows are there (so zero below means hidden, not absent). */
static void test_the_hidden_rows_exist(void **state)
{
    (void)state;
    assert_int_equal(admin_count("SELECT count(*) FROM cases WHERE case_id = '%s'", HIDDEN), 1);
    assert_int_equal(admin_count("SELECT count(*) FROM case_records WHERE case_id = '%s'", HIDDEN),
                     3);
    assert_int_equal(admin_count("SELECT count(*) FROM case_versions WHERE case_id = '%s'", HIDDEN),
                     1);
    assert_int_equal(admin_count("SELECT count(*) FROM persons WHERE case_id = '%s'", HIDDEN), 2);
    assert_int_equal(admin_count("SELECT count(*) FROM person_documents WHERE person_id IN (%s)",
                                 HIDDEN_PERSONS),
                     2);
    assert_int_equal(admin_count("SELECT count(*) FROM case_events WHERE case_id = '%s'", HIDDEN),
                     2);
    assert_true(admin_count("SELECT count(*) FROM sync_feed WHERE agency_id = %s", FGN_ID) >= 2);
    assert_int_equal(admin_count("SELECT count(*) FROM grants WHERE case_id = '%s'", HIDDEN), 1);
}

static void test_agency_reads_only_its_own_and_granted_rows(void **state)
{
    char sql[512];

    (void)state;
    /* No WHERE clause: what a careless handler query would get. */
    snprintf(sql, sizeof(sql), "SELECT 1 FROM cases WHERE case_id = '%s'", HIDDEN);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT case_id FROM cases WHERE case_id IN ('%s', '%s', '%s')",
             HIDDEN, SHARED, OWN);
    expect_rows(PONAL_ID, 2, sql); /* the shared one and its own */
    {
        static const char *const variants[] = {"full", "shareable", "restricted"};
        for (int i = 0; i < 3; i++) {
            snprintf(sql, sizeof(sql),
                     "SELECT 1 FROM case_records WHERE case_id = '%s' AND variant = '%s'", HIDDEN,
                     variants[i]);
            expect_rows(PONAL_ID, 0, sql);
        }
    }
    snprintf(sql, sizeof(sql), "SELECT 1 FROM case_records WHERE case_id = '%s'", HIDDEN);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM case_versions WHERE case_id IN ('%s', '%s')", HIDDEN,
             SHARED);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM persons WHERE case_id IN ('%s', '%s')", HIDDEN,
             SHARED);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM person_documents WHERE person_id IN (%s)",
             HIDDEN_PERSONS);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM case_events WHERE case_id IN ('%s', '%s')", HIDDEN,
             SHARED);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM sync_feed WHERE agency_id <> %s", PONAL_ID);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM grants WHERE case_id = '%s'", HIDDEN);
    expect_rows(PONAL_ID, 0, sql);
    /* Its own rows are there: the policies are not simply empty. */
    snprintf(sql, sizeof(sql), "SELECT 1 FROM persons WHERE case_id = '%s'", OWN);
    expect_rows(PONAL_ID, 2, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM case_versions WHERE case_id = '%s'", OWN);
    expect_rows(PONAL_ID, 1, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM grants WHERE case_id = '%s'", SHARED);
    expect_rows(PONAL_ID, 1, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM sync_feed WHERE agency_id = %s", PONAL_ID);
    {
        struct outcome o = as_app(PONAL_ID, "%s", sql);
        assert_true(o.rows >= 2);
    }
}

/*
 * A HIT tells that a case exists, whose it is, how to reach the owner and
 * its handling code; nothing of its content. The cases row itself (its
 * external_ref, status, dates) stays out of reach, and the one function
 * that gives a HIT its fields gives exactly those.
 */
static void test_hit_reads_only_the_hit_fields(void **state)
{
    struct outcome o;
    char sql[512];

    (void)state;
    snprintf(sql, sizeof(sql), "SELECT 1 FROM cases WHERE case_id = '%s'", HIT);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql), "SELECT 1 FROM case_records WHERE case_id = '%s'", HIT);
    expect_rows(PONAL_ID, 0, sql);
    o = as_app(PONAL_ID,
               "SELECT concat_ws('|', level, owner_code, handling_code, external_ref IS NULL,"
               " version IS NULL, status IS NULL, created_at IS NULL, updated_at IS NULL,"
               " person_count IS NULL) FROM ritra_case_heads(ARRAY['%s'::uuid])",
               HIT);
    if (o.status != PGRES_TUPLES_OK || o.rows != 1)
        fail_msg("ritra_case_heads at HIT: %d rows, sqlstate %s", o.rows, o.sqlstate);
    assert_string_equal(o.first, "1|FGN|H0|t|t|t|t|t|t");
    /* The same function gives the content columns from RESTRICTED up... */
    o = as_app(
        PONAL_ID,
        "SELECT concat_ws('|', level, external_ref) FROM ritra_case_heads(ARRAY['%s'::uuid])",
        SHARED);
    assert_string_equal(o.first, "3|RLS-SHARED");
    /* ...nothing for a case below HIT, and nothing with no agency named. */
    o = as_app(PONAL_ID, "SELECT 1 FROM ritra_case_heads(ARRAY['%s'::uuid])", HIDDEN);
    assert_int_equal(o.status, PGRES_TUPLES_OK);
    assert_int_equal(o.rows, 0);
    o = as_app(NULL, "SELECT 1 FROM ritra_case_heads(ARRAY['%s'::uuid])", HIT);
    assert_string_equal(o.sqlstate, "42501");
}

static void test_full_grant_reads_shareable_rendering_never_full(void **state)
{
    char sql[512];

    (void)state;
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM case_records WHERE case_id = '%s' AND variant = 'full'", SHARED);
    expect_rows(PONAL_ID, 0, sql);
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM case_records WHERE case_id = '%s' AND variant = 'shareable'", SHARED);
    expect_rows(PONAL_ID, 1, sql);
    /* The owner reads its full record. */
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM case_records WHERE case_id = '%s' AND variant = 'full'", SHARED);
    expect_rows(FGN_ID, 1, sql);
}

static void test_agency_cannot_change_rows_it_does_not_own(void **state)
{
    char sql[512], ids[100];

    (void)state;
    snprintf(ids, sizeof(ids), "'%s', '%s'", HIDDEN, SHARED);
    snprintf(sql, sizeof(sql), "UPDATE cases SET status = 'Closed' WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE cases SET status = 'Closed'");
    {
        /* Everything it may update is its own case. */
        struct outcome o = as_app(PONAL_ID, "%s", sql);
        assert_int_equal(o.status, PGRES_COMMAND_OK);
        assert_int_equal(o.affected, 1);
    }
    snprintf(sql, sizeof(sql), "DELETE FROM cases WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE case_records SET record = '\\x00' WHERE case_id IN (%s)",
             ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM case_records WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE case_versions SET status = 'Closed' WHERE case_id IN (%s)",
             ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM case_versions WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE persons SET given_names = 'X' WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM persons WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE person_documents SET number = 'X' WHERE person_id IN (%s)",
             HIDDEN_PERSONS);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM person_documents WHERE person_id IN (%s)",
             HIDDEN_PERSONS);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "UPDATE case_events SET city = 'X' WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM case_events WHERE case_id IN (%s)", ids);
    expect_no_change(PONAL_ID, sql);
    expect_refused(PONAL_ID, "UPDATE sync_feed SET seq = 0");
    expect_no_change(PONAL_ID, "DELETE FROM sync_feed");
    /* Grants change only through the grant functions. */
    snprintf(sql, sizeof(sql), "UPDATE grants SET state = 'accepted' WHERE case_id IN (%s)", ids);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM grants WHERE case_id IN (%s)", ids);
    expect_refused(PONAL_ID, sql);
    /* Nor may it hand its own case to another agency. */
    snprintf(sql, sizeof(sql), "UPDATE cases SET owner_agency_id = %s WHERE case_id = '%s'", FGN_ID,
             OWN);
    expect_refused(PONAL_ID, sql);
}

static void test_agency_cannot_insert_for_another_agency(void **state)
{
    char sql[1024];

    (void)state;
    snprintf(sql, sizeof(sql),
             "INSERT INTO cases (owner_agency_id, external_ref, version, status, handling_code,"
             " source_reliability, information_accuracy, person_count, content_sha256,"
             " created_by, updated_by) VALUES (%s, 'RLS-FORGED', 1, 'Active', 'H0', 'A', '1', 1,"
             " sha256('x'), 'rls', 'rls')",
             FGN_ID);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO case_records (case_id, variant, record) VALUES ('%s', 'full', '\\x00')"
             " ON CONFLICT (case_id, variant) DO UPDATE SET record = EXCLUDED.record",
             HIDDEN);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO case_versions (case_id, version, status, content_sha256, record,"
             " submitted_by, agency_id) VALUES ('%s', 99, 'Closed', sha256('x'), '\\x00', 'rls',"
             " %s)",
             HIDDEN, FGN_ID);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO persons (case_id, person_ref, role) VALUES ('%s', 'RLS', 'Victim')",
             HIDDEN);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO case_events (case_id, ordinal, event_type) VALUES ('%s', 99, "
             "'Transit')",
             HIDDEN);
    expect_refused(PONAL_ID, sql);
    /* The feed is written only through the SECURITY DEFINER functions. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO sync_feed (agency_id, case_id, xid, seq) VALUES (%s, '%s',"
             " pg_current_xact_id(), 1)",
             PONAL_ID, HIDDEN);
    expect_refused(PONAL_ID, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO grants (case_id, grantor_agency_id, grantee_agency_id, level, purpose,"
             " state, created_by, updated_by) VALUES ('%s', %s, %s, 3, 'x', 'accepted', 'rls',"
             " 'rls')",
             HIDDEN, FGN_ID, PONAL_ID);
    expect_refused(PONAL_ID, sql);
}

static void test_without_an_agency_nothing_is_visible(void **state)
{
    static const char *const tables[] = {
        "cases",       "case_records", "case_versions", "persons", "person_documents",
        "case_events", "sync_feed",    "grants"};
    char sql[128];

    (void)state;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT 1 FROM %s", tables[i]);
        expect_rows(NULL, 0, sql);
        expect_rows("", 0, sql);
    }
    expect_no_change(NULL, "UPDATE cases SET status = 'Closed'");
    expect_no_change(NULL, "DELETE FROM persons");
}

static void test_app_role_cannot_bypass_or_disable_row_security(void **state)
{
    struct outcome o;

    (void)state;
    o = as_app(NULL, "SELECT rolsuper::text || rolbypassrls::text FROM pg_roles"
                     " WHERE rolname = current_user");
    assert_int_equal(o.rows, 1);
    assert_string_equal(o.first, "falsefalse");
    expect_refused(PONAL_ID, "ALTER TABLE cases DISABLE ROW LEVEL SECURITY");
    expect_refused(PONAL_ID, "ALTER TABLE case_records NO FORCE ROW LEVEL SECURITY");
    expect_refused(PONAL_ID, "DROP POLICY cases_read ON cases");
    expect_refused(PONAL_ID, "CREATE POLICY everything ON cases FOR SELECT USING (true)");
    expect_refused(PONAL_ID, "ALTER ROLE ritra_app BYPASSRLS");
    /* Turning row security off makes a query that it would filter fail. */
    o = as_app(PONAL_ID, "SET LOCAL row_security = off; SELECT 1 FROM cases");
    assert_int_not_equal(o.status, PGRES_TUPLES_OK);
    assert_string_equal(o.sqlstate, "42501");
}

static void test_grant_functions_refuse_cases_the_caller_cannot_see(void **state)
{
    struct outcome o;

    (void)state;
    o = as_app(PONAL_ID,
               "SELECT outcome FROM ritra_share_case('%s', %s, NULL, 3::smallint, 'x', NULL,"
               " 'rls')",
               HIDDEN, PONAL_ID);
    assert_string_equal(o.first, "not_found");
    o = as_app(PONAL_ID, "SELECT outcome FROM ritra_revoke_share('%s', 'x', 'rls')", HIDDEN_GRANT);
    assert_string_equal(o.first, "not_found");
    o = as_app(PONAL_ID, "SELECT outcome FROM ritra_respond_share('%s', true, 'x', 'rls')",
               HIDDEN_GRANT);
    assert_string_equal(o.first, "not_found");
    /* Submitting in another agency's name. */
    o = as_app(PONAL_ID,
               "SELECT outcome FROM ritra_submit_case(%s, 'rls', 'RLS-FORGED', 0, sha256('x'),"
               " '\\x00', '\\x00', '\\x00', 'Active', 'H0', 'A', '1', '{}', 1, false, '[]', '[]')",
               FGN_ID);
    assert_string_equal(o.sqlstate, "42501");
    assert_int_equal(admin_count("SELECT count(*) FROM grants WHERE case_id = '%s'"
                                 " AND state = 'offered'",
                                 HIDDEN),
                     1);
}

/*
 * The server's role asks about the acting agency only: the functions the
 * policies use are bound to the agency set for the transaction, and the
 * forms taking any agency (or writing any agency's feed) are reserved to
 * the functions that run as the schema owner.
 */
static void test_app_role_asks_about_the_acting_agency_only(void **state)
{
    struct outcome o;

    (void)state;
    o = as_app(PONAL_ID, "SELECT ritra_case_level('%s', %s)", HIDDEN, FGN_ID);
    assert_string_equal(o.sqlstate, "42501");
    o = as_app(PONAL_ID, "SELECT * FROM ritra_level_inputs('%s', %s)", HIDDEN, FGN_ID);
    assert_string_equal(o.sqlstate, "42501");
    o = as_app(PONAL_ID, "SELECT ritra_case_owner('%s')", HIDDEN);
    assert_string_equal(o.sqlstate, "42501");
    o = as_app(PONAL_ID, "SELECT ritra_onward_parent('%s', %s)", HIDDEN, FGN_ID);
    assert_string_equal(o.sqlstate, "42501");
    o = as_app(PONAL_ID, "SELECT ritra_feed_touch_any(%s, '%s')", PONAL_ID, HIDDEN);
    assert_string_equal(o.sqlstate, "42501");
    /* The feed: its own only. */
    o = as_app(PONAL_ID, "SELECT ritra_feed_touch(%s, '%s')", FGN_ID, HIDDEN);
    assert_string_equal(o.sqlstate, "42501");
    o = as_app(NULL, "SELECT ritra_feed_touch(%s, '%s')", PONAL_ID, OWN);
    assert_string_equal(o.sqlstate, "42501");

    /* No function ritra_app may call takes an agency to ask about, except
     * those that check it: ritra_act_as sets it from the certificate,
     * ritra_feed_touch and ritra_submit_case refuse any other (above, and
     * in the test before), ritra_audit_pull returns nothing for another
     * (below). */
    o = as_app(NULL, "SELECT coalesce(string_agg(p.proname, ',' ORDER BY p.proname), '')"
                     " FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
                     " AND has_function_privilege('ritra_app', p.oid, 'EXECUTE')"
                     " AND p.proargnames && ARRAY['p_agency', 'agency', 'p_agency_id']");
    assert_string_equal(o.first,
                        "ritra_act_as,ritra_audit_pull,ritra_feed_touch,ritra_submit_case");

    /* FGN's submissions are in the chain (the chainer runs behind them). */
    for (int i = 0; i < 100 && admin_count("SELECT count(*) FROM audit_chain") == 0; i++)
        usleep(50 * 1000);
    o = as_app(PONAL_ID,
               "SELECT count(*) FROM ritra_audit_pull(%s, 0, NULL, NULL, NULL, NULL, NULL,"
               " NULL, NULL, 100)",
               FGN_ID);
    assert_string_equal(o.first, "0");
    o = as_app(FGN_ID,
               "SELECT count(*) > 0 FROM ritra_audit_pull(%s, 0, NULL, NULL, NULL, NULL, NULL,"
               " NULL, NULL, 100)",
               FGN_ID);
    assert_string_equal(o.first, "t");

    /* The one-argument forms answer for the acting agency. */
    o = as_app(PONAL_ID,
               "SELECT concat_ws('|', ritra_my_case_level('%s'), ritra_my_case_level('%s'),"
               " ritra_my_case_level('%s'), ritra_my_case_level('%s'))",
               HIDDEN, HIT, SHARED, OWN);
    assert_string_equal(o.first, "0|1|3|3");
    o = as_app(FGN_ID, "SELECT ritra_my_case_level('%s')", HIDDEN);
    assert_string_equal(o.first, "3");
    o = as_app(NULL, "SELECT coalesce(ritra_my_case_level('%s'), 0)", HIDDEN);
    assert_string_equal(o.first, "0");
    o = as_app(PONAL_ID, "SELECT ritra_owns_case('%s')::text || ritra_owns_case('%s')::text",
               HIDDEN, OWN);
    assert_string_equal(o.first, "falsetrue");
    o = as_app(FGN_ID, "SELECT ritra_owns_case('%s')::text", HIDDEN);
    assert_string_equal(o.first, "true");
    /* The facts of a case it does not see: nothing, not even the owner. */
    o = as_app(PONAL_ID, "SELECT owner_agency_id FROM ritra_my_level_inputs('%s')", HIDDEN);
    assert_int_equal(o.status, PGRES_TUPLES_OK);
    assert_int_equal(o.rows, 0);
    o = as_app(PONAL_ID,
               "SELECT concat_ws('|', owner_agency_id, handling_code, direct)"
               " FROM ritra_my_level_inputs('%s')",
               SHARED);
    assert_int_equal(o.rows, 1);
    {
        char want[64];
        snprintf(want, sizeof(want), "%s|", FGN_ID);
        assert_true(strncmp(o.first, want, strlen(want)) == 0);
        assert_true(o.first[strlen(o.first) - 1] == '3'); /* the FULL grant */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_hidden_rows_exist),
        cmocka_unit_test(test_agency_reads_only_its_own_and_granted_rows),
        cmocka_unit_test(test_hit_reads_only_the_hit_fields),
        cmocka_unit_test(test_full_grant_reads_shareable_rendering_never_full),
        cmocka_unit_test(test_agency_cannot_change_rows_it_does_not_own),
        cmocka_unit_test(test_agency_cannot_insert_for_another_agency),
        cmocka_unit_test(test_without_an_agency_nothing_is_visible),
        cmocka_unit_test(test_app_role_cannot_bypass_or_disable_row_security),
        cmocka_unit_test(test_grant_functions_refuse_cases_the_caller_cannot_see),
        cmocka_unit_test(test_app_role_asks_about_the_acting_agency_only),
    };

    return cmocka_run_group_tests_name("integration-rls", tests, setup, teardown);
}
