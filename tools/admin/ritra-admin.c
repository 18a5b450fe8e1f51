/*
 * ritra-admin: the local registry tool. It talks to PostgreSQL directly
 * (as the schema owner) to register agencies and pin their certificates;
 * the server only ever reads what it writes.
 *
 * Exit codes: 0 done; 1 failure; 2 usage; 3 already exists; 4 not found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define EXIT_FAIL     1
#define EXIT_USAGE    2
#define EXIT_EXISTS   3
#define EXIT_NOTFOUND 4

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ritra-admin [--db CONNINFO] COMMAND\n"
            "\n"
            "  agency add CODE --name NAME --kind KIND   register an agency\n"
            "  agency list                               list agencies and their certificates\n"
            "  agency enable CODE | agency disable CODE  allow or refuse its connections\n"
            "  cert add CODE FILE.crt                    pin a PEM certificate to an agency\n"
            "  cert revoke FINGERPRINT                   withdraw a pinned certificate\n"
            "  cert list [CODE]                          list pinned certificates\n"
            "\n"
            "KIND: prosecutor police migration victim_services auditor coordinator\n"
            "CONNINFO defaults to $RITRA_ADMIN_DB; it needs the schema owner's rights.\n"
            "Exit codes: 0 done, 1 failure, 2 usage, 3 already exists, 4 not found.\n");
}

/* Runs one parameterised statement; prints PostgreSQL's message on error. */
static PGresult *run(PGconn *pg, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state == NULL || strcmp(state, "23505") != 0)
            fprintf(stderr, "ritra-admin: %s", PQresultErrorMessage(r));
    }
    return r;
}

static int is_unique_violation(const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    return state != NULL && strcmp(state, "23505") == 0;
}

static int agency_add(PGconn *pg, int argc, char **argv)
{
    const char *code = NULL, *name = NULL, *kind = NULL;
    const char *params[3];
    PGresult *r;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            kind = argv[++i];
        else if (code == NULL && argv[i][0] != '-')
            code = argv[i];
        else
            return EXIT_USAGE;
    }
    if (code == NULL || name == NULL || kind == NULL)
        return EXIT_USAGE;
    params[0] = code;
    params[1] = name;
    params[2] = kind;
    r = run(pg, "INSERT INTO agencies (code, name, kind) VALUES ($1, $2, $3::agency_kind)", 3,
            params);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        printf("agency %s registered\n", code);
        rc = 0;
    } else if (is_unique_violation(r)) {
        fprintf(stderr, "ritra-admin: agency %s already exists\n", code);
        rc = EXIT_EXISTS;
    } else {
        rc = EXIT_FAIL;
    }
    PQclear(r);
    return rc;
}

static int agency_set_enabled(PGconn *pg, const char *code, int enabled)
{
    const char *params[2] = {code, enabled ? "true" : "false"};
    PGresult *r =
        run(pg, "UPDATE agencies SET enabled = $2::boolean, updated_at = now() WHERE code = $1", 2,
            params);
    int rc = EXIT_FAIL;

    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        if (strcmp(PQcmdTuples(r), "0") == 0) {
            fprintf(stderr, "ritra-admin: no agency %s\n", code);
            rc = EXIT_NOTFOUND;
        } else {
            printf("agency %s %s\n", code, enabled ? "enabled" : "disabled");
            rc = 0;
        }
    }
    PQclear(r);
    return rc;
}

static int agency_list(PGconn *pg)
{
    PGresult *r = run(pg,
                      "SELECT a.code, a.kind, a.enabled, a.name,"
                      "       count(c.fingerprint) FILTER (WHERE c.revoked_at IS NULL"
                      "                                   AND c.not_after > now())"
                      "  FROM agencies a LEFT JOIN agency_certs c USING (agency_id)"
                      " GROUP BY a.agency_id ORDER BY a.code",
                      0, NULL);
    int rc = EXIT_FAIL;

    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        printf("%-14s %-16s %-8s %-5s %s\n", "CODE", "KIND", "ENABLED", "CERTS", "NAME");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-14s %-16s %-8s %-5s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   strcmp(PQgetvalue(r, i, 2), "t") == 0 ? "yes" : "no", PQgetvalue(r, i, 4),
                   PQgetvalue(r, i, 3));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int asn1_to_iso(const ASN1_TIME *t, char *out, size_t outlen)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    return strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ? -1 : 0;
}

static int cert_add(PGconn *pg, const char *code, const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *cert = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char fp[65], subject[1024], nb[32], na[32];
    const char *params[5];
    PGresult *r;
    int rc = EXIT_FAIL;

    if (f == NULL) {
        perror(path);
        return EXIT_FAIL;
    }
    cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (cert == NULL) {
        fprintf(stderr, "ritra-admin: %s: not a PEM certificate\n", path);
        goto out;
    }
    if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
        goto out;
    for (unsigned i = 0; i < 32; i++)
        snprintf(fp + 2 * i, 3, "%02x", md[i]);
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
    if (asn1_to_iso(X509_get0_notBefore(cert), nb, sizeof(nb)) < 0 ||
        asn1_to_iso(X509_get0_notAfter(cert), na, sizeof(na)) < 0) {
        fprintf(stderr, "ritra-admin: %s: unreadable validity\n", path);
        goto out;
    }
    params[0] = fp;
    params[1] = code;
    params[2] = subject;
    params[3] = nb;
    params[4] = na;
    r = run(pg,
            "INSERT INTO agency_certs (fingerprint, agency_id, subject, not_before, not_after)"
            " SELECT $1, agency_id, $3, $4::timestamptz, $5::timestamptz"
            "   FROM agencies WHERE code = $2",
            5, params);
    if (PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0) {
        printf("%s pinned to %s\n", fp, code);
        rc = 0;
    } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        fprintf(stderr, "ritra-admin: no agency %s\n", code);
        rc = EXIT_NOTFOUND;
    } else if (is_unique_violation(r)) {
        fprintf(stderr, "ritra-admin: certificate %s is already registered\n", fp);
        rc = EXIT_EXISTS;
    }
    PQclear(r);
out:
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

static int cert_revoke(PGconn *pg, const char *fp)
{
    const char *params[1] = {fp};
    PGresult *r = run(pg,
                      "UPDATE agency_certs SET revoked_at = now()"
                      " WHERE fingerprint = lower($1) AND revoked_at IS NULL",
                      1, params);
    int rc = EXIT_FAIL;

    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : EXIT_NOTFOUND;
        if (rc == 0)
            printf("%s revoked\n", fp);
        else
            fprintf(stderr, "ritra-admin: no active certificate %s\n", fp);
    }
    PQclear(r);
    return rc;
}

static int cert_list(PGconn *pg, const char *code)
{
    const char *params[1] = {code};
    PGresult *r = run(pg,
                      "SELECT a.code, c.fingerprint, c.not_after::date,"
                      "       CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked'"
                      "            WHEN c.not_after <= now() THEN 'expired'"
                      "            WHEN c.not_before > now() THEN 'not-yet-valid'"
                      "            ELSE 'active' END, c.subject"
                      "  FROM agency_certs c JOIN agencies a USING (agency_id)"
                      " WHERE $1::text IS NULL OR a.code = $1 ORDER BY a.code, c.added_at",
                      1, params);
    int rc = EXIT_FAIL;

    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-14s %s %s %-13s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static const char *outcome_name(int rc)
{
    switch (rc) {
    case 0:
        return "OK";
    case EXIT_USAGE:
        return "INVALID_ARGUMENT";
    case EXIT_EXISTS:
        return "ALREADY_EXISTS";
    case EXIT_NOTFOUND:
        return "NOT_FOUND";
    default:
        return "INTERNAL";
    }
}

/*
 * Administrative actions are part of the audit trail (once the schema has
 * one): who ran what, with which arguments, and how it ended. The entry
 * is chained and signed by the servers like any other.
 */
static int admin_audit(PGconn *pg, int argc, char **argv, int rc)
{
    char op[64], args[1024], details[1200];
    const char *actor = getenv("RITRA_ACTOR");
    struct passwd *pw = getpwuid(getuid());
    const char *params[4];
    size_t n = 0;
    PGresult *r;
    int ok;

    r = PQexec(pg, "SELECT to_regclass('audit_log') IS NOT NULL");
    ok = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!ok)
        return 0; /* before migration 0005: nothing to record into */
    snprintf(op, sizeof(op), "admin.%s_%s", argv[0], argc > 1 ? argv[1] : "");
    args[0] = '\0';
    for (int i = 0; i < argc && n + 2 < sizeof(args); i++) {
        /* JSON string content: escape quotes and backslashes, drop controls. */
        for (const char *p = argv[i]; *p && n + 3 < sizeof(args); p++) {
            if ((unsigned char)*p < 0x20)
                continue;
            if (*p == '"' || *p == '\\')
                args[n++] = '\\';
            args[n++] = *p;
        }
        if (i + 1 < argc && n + 1 < sizeof(args))
            args[n++] = ' ';
    }
    args[n] = '\0';
    snprintf(details, sizeof(details), "{\"args\":\"%s\"}", args);
    params[0] = op;
    params[1] = outcome_name(rc);
    params[2] = actor ? actor : pw ? pw->pw_name : "unknown";
    params[3] = details;
    r = run(pg,
            "INSERT INTO audit_log (operation, outcome, actor, details)"
            " VALUES ($1, $2, left($3, 256), left($4, 4096))",
            4, params);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

static int dispatch(PGconn *pg, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[0], "agency") == 0) {
        if (strcmp(argv[1], "add") == 0)
            return agency_add(pg, argc - 2, argv + 2);
        if (strcmp(argv[1], "list") == 0 && argc == 2)
            return agency_list(pg);
        if (strcmp(argv[1], "enable") == 0 && argc == 3)
            return agency_set_enabled(pg, argv[2], 1);
        if (strcmp(argv[1], "disable") == 0 && argc == 3)
            return agency_set_enabled(pg, argv[2], 0);
    } else if (argc >= 2 && strcmp(argv[0], "cert") == 0) {
        if (strcmp(argv[1], "add") == 0 && argc == 4)
            return cert_add(pg, argv[2], argv[3]);
        if (strcmp(argv[1], "revoke") == 0 && argc == 3)
            return cert_revoke(pg, argv[2]);
        if (strcmp(argv[1], "list") == 0 && argc <= 3)
            return cert_list(pg, argc == 3 ? argv[2] : NULL);
    }
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("RITRA_ADMIN_DB");
    PGconn *pg;
    int rc;

    argv++;
    argc--;
    if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[0], "--db") == 0) {
        conninfo = argv[1];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (conninfo == NULL) {
        fprintf(stderr, "ritra-admin: no database: pass --db CONNINFO or set RITRA_ADMIN_DB\n");
        return EXIT_USAGE;
    }
    pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "ritra-admin: cannot connect: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return EXIT_FAIL;
    }
    /* The action and its audit entry commit together; a failed action is
     * rolled back and then recorded on its own. */
    PQclear(PQexec(pg, "BEGIN"));
    rc = dispatch(pg, argc, argv);
    if (rc == 0 && admin_audit(pg, argc, argv, rc) < 0) {
        fprintf(stderr, "ritra-admin: could not record the action in the audit trail\n");
        rc = EXIT_FAIL;
    }
    if (rc == 0) {
        PGresult *r = PQexec(pg, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "ritra-admin: %s", PQresultErrorMessage(r));
            rc = EXIT_FAIL;
        }
        PQclear(r);
    } else {
        PQclear(PQexec(pg, "ROLLBACK"));
        admin_audit(pg, argc, argv, rc);
    }
    if (rc == EXIT_USAGE)
        usage(stderr);
    PQfinish(pg);
    return rc;
}
