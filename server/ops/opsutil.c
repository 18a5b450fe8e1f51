#include "opsutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../conn.h"
#include "../log.h"
#include "../request.h"

void ops_fail_db(struct request *r, enum db_outcome db, const char *error)
{
    switch (db) {
    case DB_UNAVAILABLE:
        request_fail(r, RITRA__STATUS_CODE__UNAVAILABLE, "database unavailable", NULL);
        return;
    case DB_TIMEOUT:
        request_fail(r, RITRA__STATUS_CODE__DEADLINE_EXCEEDED, "database did not answer in time",
                     NULL);
        return;
    case DB_RETRY:
        request_fail(r, RITRA__STATUS_CODE__ABORTED,
                     "concurrent change; nothing was written, retry the request", NULL);
        return;
    case DB_DENIED:
        request_fail(r, RITRA__STATUS_CODE__PERMISSION_DENIED, "not allowed", NULL);
        return;
    case DB_UNAUTHORIZED:
        /* Disabled or withdrawn since the connection opened: end it too. */
        request_close_after(r);
        request_fail(r, RITRA__STATUS_CODE__UNAUTHENTICATED,
                     "agency disabled or certificate registration withdrawn", NULL);
        return;
    case DB_SQL_ERROR:
    case DB_OK:
    default:
        log_msg(LOG_ERROR, "db_query_failed", error);
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "database query failed", NULL);
        return;
    }
}

bool ops_uuid_valid(const char *s)
{
    static const int dash[] = {8, 13, 18, 23};

    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool want_dash = i == dash[0] || i == dash[1] || i == dash[2] || i == dash[3];
        if (want_dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool ops_timestamp_valid(const char *s)
{
    int y, mo, d, h, mi, sec;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p;

    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return false;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    if (s[10] == '\0')
        return true;
    p = s + 10;
    if (*p != 'T' || strlen(p) < 9 || !digits(p + 1, 2) || p[3] != ':' || !digits(p + 4, 2) ||
        p[6] != ':' || !digits(p + 7, 2))
        return false;
    h = (p[1] - '0') * 10 + (p[2] - '0');
    mi = (p[4] - '0') * 10 + (p[5] - '0');
    sec = (p[7] - '0') * 10 + (p[8] - '0');
    if (h > 23 || mi > 59 || sec > 59)
        return false;
    p += 9;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++)
            n++;
        if (n == 0 || n > 9)
            return false;
    }
    if (strcmp(p, "Z") == 0)
        return true;
    return (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2) && p[3] == ':' &&
           digits(p + 4, 2);
}

int ops_row_level(const struct agency *viewer, const struct case_row *row, enum policy_level *out)
{
    struct policy_case pc = {row->owner_agency_id, row->handling_code, row->h3_allow_hits};
    struct policy_grants pg = {(enum policy_level)row->grant_direct,
                               (enum policy_level)row->grant_by_kind,
                               (enum policy_level)row->kind_default};
    enum policy_level level = policy_case_level(viewer->id, viewer->kind, &pc, &pg);
    const char *want =
        policy_variant_name(policy_variant_for(level, pc.owner_agency_id == viewer->id));
    const char *got = row->variant ? row->variant : "(none asked)";
    struct logline l;

    /* Same level; and where a rendering was asked for, the one this level
     * calls for (none below RESTRICTED). */
    if ((int)level == row->db_level && (row->variant == NULL || strcmp(want, got) == 0)) {
        *out = level;
        return 0;
    }
    log_begin(&l, LOG_ERROR, "policy_disagreement");
    log_str(&l, "case", row->case_id);
    log_str(&l, "agency", viewer->code);
    log_str(&l, "server_level", policy_level_name(level));
    log_i64(&l, "db_level", row->db_level);
    log_str(&l, "variant", got);
    log_end(&l);
    return -1;
}

void ops_fill_hit(Ritra__CaseHit *hit, const struct case_row *row, const char *reason)
{
    ritra__case_hit__init(hit);
    hit->case_id = (char *)row->case_id;
    hit->owner_agency = (char *)row->owner_code;
    hit->owner_name = (char *)row->owner_name;
    hit->contact = (char *)row->contact;
    hit->handling_code = (char *)row->handling_code;
    hit->reason = (char *)(reason ? reason : "");
}
