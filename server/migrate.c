#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "log.h"

#define MIGRATE_LOCK_KEY  "7526357349230"
#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_BYTES (4 * 1024 * 1024)

struct mfile {
    int version;
    char name[256];
};

static int cmp_mfile(const void *a, const void *b)
{
    return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

static int list_files(const char *dir, struct mfile **out, int *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    regex_t re;
    struct mfile *files = NULL;
    int n = 0, rc = -1;

    if (d == NULL) {
        snprintf(err, errlen, "migrations_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (regcomp(&re, "^[0-9]{4}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB) != 0) {
        closedir(d);
        snprintf(err, errlen, "regcomp failed");
        return -1;
    }
    files = calloc(MIGRATE_MAX_FILES, sizeof(*files));
    if (files == NULL)
        goto out;
    while ((e = readdir(d)) != NULL) {
        if (regexec(&re, e->d_name, 0, NULL, 0) != 0)
            continue;
        if (n == MIGRATE_MAX_FILES) {
            snprintf(err, errlen, "more than %d migration files", MIGRATE_MAX_FILES);
            goto out;
        }
        files[n].version = (int)strtol(e->d_name, NULL, 10);
        snprintf(files[n].name, sizeof(files[n].name), "%s", e->d_name);
        n++;
    }
    qsort(files, (size_t)n, sizeof(*files), cmp_mfile);
    for (int i = 1; i < n; i++) {
        if (files[i].version == files[i - 1].version) {
            snprintf(err, errlen, "two migrations numbered %04d: %s and %s", files[i].version,
                     files[i - 1].name, files[i].name);
            goto out;
        }
    }
    *out = files;
    *count = n;
    files = NULL;
    rc = 0;
out:
    free(files);
    regfree(&re);
    closedir(d);
    return rc;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MIGRATE_MAX_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, MIGRATE_MAX_BYTES + 1, f);
    if (ferror(f) || n > MIGRATE_MAX_BYTES) {
        snprintf(err, errlen, "%s: %s", path, n > MIGRATE_MAX_BYTES ? "too large" : "read error");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (strlen(buf) != n) {
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        free(buf);
        return NULL;
    }
    return buf;
}

static void sha256_hex(const char *data, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    EVP_Digest(data, strlen(data), md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* Runs a command whose result we only need to be successful. */
static int exec_ok(PGconn *pg, const char *sql, int nparams, const char *const *params,
                   ExecStatusType want, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == want;

    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Migrations are administrative actions: once the audit trail exists (from
 * 0005 on, including 0005 itself), each applied file gets an entry in its
 * own transaction. */
static int record_in_audit(PGconn *pg, const char *name, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, "SELECT to_regclass('audit_log') IS NOT NULL");
    int has = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    char details[512];
    const char *params[1] = {details};

    PQclear(r);
    if (!has)
        return 0;
    snprintf(details, sizeof(details), "{\"file\":\"%s\"}", name);
    return exec_ok(pg,
                   "INSERT INTO audit_log (operation, outcome, actor, details)"
                   " VALUES ('migrate', 'OK', current_user, $1)",
                   1, params, PGRES_COMMAND_OK, err, errlen);
}

static int apply_one(PGconn *pg, const char *dir, const struct mfile *m, char *err, size_t errlen)
{
    char path[4096], sum[65], version[16], why[1024];
    const char *params[3];
    char *sql;
    PGresult *r;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, m->name);
    sql = read_file(path, err, errlen);
    if (sql == NULL)
        return -1;
    sha256_hex(sql, sum);
    snprintf(version, sizeof(version), "%d", m->version);
    params[0] = version;
    r = PQexecParams(pg, "SELECT name, checksum FROM ritra_schema_migrations WHERE version = $1", 1,
                     NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        goto out;
    }
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 1), sum) != 0 || strcmp(PQgetvalue(r, 0, 0), m->name) != 0) {
            snprintf(err, errlen,
                     "%s was changed after it was applied (recorded %s sha256 %.12s…, file has "
                     "sha256 %.12s…): add a new migration instead of editing an applied one",
                     m->name, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), sum);
            goto out;
        }
        rc = 0; /* already applied */
        goto out;
    }
    if (exec_ok(pg, "BEGIN", 0, NULL, PGRES_COMMAND_OK, err, errlen) < 0)
        goto out;
    /* The simple protocol runs the file's statements in our transaction. */
    PQclear(r);
    r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(why, sizeof(why), "%s", PQresultErrorMessage(r));
        snprintf(err, errlen, "%s failed: %s", m->name, why);
        exec_ok(pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, why, sizeof(why));
        goto out;
    }
    params[1] = m->name;
    params[2] = sum;
    if (record_in_audit(pg, m->name, err, errlen) < 0) {
        exec_ok(pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, why, sizeof(why));
        goto out;
    }
    if (exec_ok(pg,
                "INSERT INTO ritra_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                3, params, PGRES_COMMAND_OK, err, errlen) < 0 ||
        exec_ok(pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK, err, errlen) < 0) {
        exec_ok(pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, why, sizeof(why));
        goto out;
    }
    log_msg(LOG_INFO, "migration_applied", m->name);
    rc = 1;
out:
    PQclear(r);
    free(sql);
    return rc;
}

static int check_unknown(PGconn *pg, const struct mfile *files, int n, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, "SELECT version, name FROM ritra_schema_migrations ORDER BY version");
    int rc = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int v = (int)strtol(PQgetvalue(r, i, 0), NULL, 10), found = 0;
        for (int j = 0; j < n && !found; j++)
            found = files[j].version == v;
        if (!found) {
            snprintf(err, errlen,
                     "the database has migration %s which is not in this release's "
                     "migrations directory (is this server older than the schema?)",
                     PQgetvalue(r, i, 1));
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int migrate_run(const char *conninfo, const char *dir, char *err, size_t errlen)
{
    PGconn *pg = PQconnectdb(conninfo);
    struct mfile *files = NULL;
    int n = 0, applied = 0, rc = -1, locked = 0;
    char why[256];

    if (PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect: %s", PQerrorMessage(pg));
        goto out;
    }
    /* NOTICEs ("relation exists, skipping") would bypass the structured log. */
    if (exec_ok(pg, "SET client_min_messages = warning", 0, NULL, PGRES_COMMAND_OK, err, errlen) <
        0)
        goto out;
    if (list_files(dir, &files, &n, err, errlen) < 0)
        goto out;
    if (exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, PGRES_TUPLES_OK, err,
                errlen) < 0)
        goto out;
    locked = 1;
    if (exec_ok(pg,
                "CREATE TABLE IF NOT EXISTS ritra_schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(),"
                " applied_by text NOT NULL DEFAULT current_user)",
                0, NULL, PGRES_COMMAND_OK, err, errlen) < 0)
        goto out;
    if (check_unknown(pg, files, n, err, errlen) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        int r = apply_one(pg, dir, &files[i], err, errlen);
        if (r < 0)
            goto out;
        applied += r;
    }
    rc = applied;
out:
    if (locked)
        exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL, PGRES_TUPLES_OK,
                why, sizeof(why));
    free(files);
    PQfinish(pg);
    return rc;
}
