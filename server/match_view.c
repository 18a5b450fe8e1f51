#include "match_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int mview_record_init_person(struct mview_record *r, const Ritra__Person *p)
{
    memset(r, 0, sizeof(*r));
    if (match_proto_fill(&r->mp, p) < 0)
        return -1;
    r->rec = cmp_record_new(&r->mp.person);
    if (r->rec == NULL) {
        match_proto_clear(&r->mp);
        return -1;
    }
    return 0;
}

int mview_record_init(struct mview_record *r, const uint8_t *pb, size_t len)
{
    Ritra__Person *p = ritra__person__unpack(NULL, len, pb);

    memset(r, 0, sizeof(*r));
    if (p == NULL)
        return -1;
    if (mview_record_init_person(r, p) < 0) {
        ritra__person__free_unpacked(p, NULL);
        return -1;
    }
    r->person = p;
    return 0;
}

void mview_record_clear(struct mview_record *r)
{
    cmp_record_free(r->rec);
    match_proto_clear(&r->mp);
    if (r->person != NULL)
        ritra__person__free_unpacked(r->person, NULL);
    memset(r, 0, sizeof(*r));
}

static const char *const field_names[SCORE_NFIELDS] = {
    "given", "surname", "birth_date", "sex", "citizenship", "document", "phone", "street", "place"};

const char *mview_field_name(enum score_field f)
{
    return (unsigned)f < SCORE_NFIELDS ? field_names[f] : "?";
}

size_t mview_explain(const struct score_result *res, char *buf, size_t cap)
{
    size_t len = 0;

    if (cap > 0)
        buf[0] = '\0';
    for (int f = 0; f < SCORE_NFIELDS; f++) {
        int n;

        if (res->item[f].level == 0) /* every field's level 0 is MISSING */
            continue;
        n = snprintf(buf + (len < cap ? len : cap), len < cap ? cap - len : 0, "%s%s=%s=%.2f",
                     len ? ";" : "", field_names[f],
                     score_level_name((enum score_field)f, res->item[f].level),
                     res->item[f].weight);
        if (n > 0)
            len += (size_t)n;
    }
    return len;
}

/* Splits "field=LEVEL=weight" in place. */
static bool split_item(char *item, char **field, char **level, double *weight)
{
    char *a = strchr(item, '='), *b, *end;

    if (a == NULL || (b = strchr(a + 1, '=')) == NULL)
        return false;
    *a = *b = '\0';
    *field = item;
    *level = a + 1;
    *weight = strtod(b + 1, &end);
    return end != b + 1;
}

void mview_agreements_free(Ritra__FieldAgreement **a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] == NULL)
            continue;
        free(a[i]->field);
        free(a[i]->level);
        free(a[i]);
    }
    free(a);
}

int mview_agreements(const char *text, bool detailed, Ritra__FieldAgreement ***out, size_t *n)
{
    char *copy = strdup(text ? text : ""), *save = NULL, *item;
    Ritra__FieldAgreement **a = calloc(SCORE_NFIELDS, sizeof(*a));
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (copy == NULL || a == NULL)
        goto oom;
    for (item = strtok_r(copy, ";", &save); item != NULL && k < SCORE_NFIELDS;
         item = strtok_r(NULL, ";", &save)) {
        char *field, *level;
        double weight;
        Ritra__FieldAgreement *fa;

        if (!split_item(item, &field, &level, &weight) || (!detailed && weight <= 0))
            continue;
        fa = calloc(1, sizeof(*fa));
        if (fa == NULL)
            goto oom;
        ritra__field_agreement__init(fa);
        a[k++] = fa;
        fa->field = strdup(field);
        fa->level = strdup(detailed ? level : "");
        if (fa->field == NULL || fa->level == NULL)
            goto oom;
        fa->weight = detailed ? weight : 0;
    }
    free(copy);
    *out = a;
    *n = k;
    return 0;
oom:
    free(copy);
    if (a != NULL)
        mview_agreements_free(a, SCORE_NFIELDS);
    return -1;
}

size_t mview_reason(const char *text, char *buf, size_t cap)
{
    char copy[512], *save = NULL, *item;
    size_t len = 0;

    snprintf(copy, sizeof(copy), "%s", text ? text : "");
    if (cap > 0)
        buf[0] = '\0';
    for (item = strtok_r(copy, ";", &save); item != NULL; item = strtok_r(NULL, ";", &save)) {
        char *field, *level;
        double weight;
        int n;

        if (!split_item(item, &field, &level, &weight) || weight <= 0)
            continue;
        n = snprintf(buf + (len < cap ? len : cap), len < cap ? cap - len : 0, "%s%s",
                     len ? "+" : "", field);
        if (n > 0)
            len += (size_t)n;
    }
    return len;
}

static const char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? "" : PQgetvalue(res, row, c);
}

void mview_facts_read(const PGresult *res, int row, int c, struct mview_facts *f)
{
    f->case_id = col(res, row, c);
    f->owner_agency_id = (int)strtol(col(res, row, c + 1), NULL, 10);
    f->owner_code = col(res, row, c + 2);
    f->owner_name = col(res, row, c + 3);
    f->contact = col(res, row, c + 4);
    f->handling_code = col(res, row, c + 5);
    f->h3_allow_hits = strcmp(col(res, row, c + 6), "t") == 0;
    f->direct = (int)strtol(col(res, row, c + 7), NULL, 10);
    f->by_kind = (int)strtol(col(res, row, c + 8), NULL, 10);
    f->kind_default = (int)strtol(col(res, row, c + 9), NULL, 10);
    f->db_level = PQgetisnull(res, row, c + 10) ? -1 : (int)strtol(col(res, row, c + 10), NULL, 10);
}

int mview_check_level(const struct agency *viewer, const struct mview_facts *f,
                      enum mview_rule rule, enum policy_level *out)
{
    struct policy_case pc = {f->owner_agency_id, f->handling_code, f->h3_allow_hits};
    struct policy_grants pg = {(enum policy_level)f->direct, (enum policy_level)f->by_kind,
                               (enum policy_level)f->kind_default};
    enum policy_level level;
    struct logline l;

    switch (rule) {
    case MVIEW_SEARCH:
        level = policy_search_level(viewer->id, viewer->kind, &pc, &pg);
        break;
    case MVIEW_RELATED:
        level = policy_related_level(viewer->id, viewer->kind, &pc, &pg);
        break;
    case MVIEW_CASE:
    default:
        level = policy_case_level(viewer->id, viewer->kind, &pc, &pg);
        break;
    }
    if ((int)level == f->db_level) {
        *out = level;
        return 0;
    }
    log_begin(&l, LOG_ERROR, "policy_disagreement");
    log_str(&l, "case", f->case_id);
    log_str(&l, "agency", viewer->code);
    log_str(&l, "server_level", policy_level_name(level));
    log_i64(&l, "db_level", f->db_level);
    log_end(&l);
    return -1;
}

bool mview_identified(const struct agency *viewer, const struct mview_facts *f,
                      enum policy_level level, const Ritra__Person *person)
{
    if (person == NULL || level < POLICY_RESTRICTED)
        return false;
    return policy_person_identified(person,
                                    policy_variant_for(level, f->owner_agency_id == viewer->id));
}

void mview_fill_record(Ritra__PersonRecord *out, Ritra__Person *view, Ritra__CaseHit *hit,
                       const struct agency *viewer, const struct mview_facts *f,
                       enum policy_level level, const char *person_id, const char *identity_id,
                       const char *role, const char *person_ref, const Ritra__Person *person,
                       const char *reason)
{
    ritra__person_record__init(out);
    out->person_id = (char *)person_id;
    out->case_id = (char *)f->case_id;
    out->owner_agency = (char *)f->owner_code;
    out->visibility = (char *)policy_level_name(level);
    out->identity_id = (char *)(identity_id ? identity_id : "");
    if (level < POLICY_RESTRICTED) {
        out->person_id = ""; /* a hit names the case, not the record in it */
        ritra__case_hit__init(hit);
        hit->case_id = (char *)f->case_id;
        hit->owner_agency = (char *)f->owner_code;
        hit->owner_name = (char *)f->owner_name;
        hit->contact = (char *)f->contact;
        hit->handling_code = (char *)f->handling_code;
        hit->reason = (char *)(reason ? reason : "");
        out->hit = hit;
        return;
    }
    out->role = (char *)(role ? role : "");
    out->person_ref = (char *)(person_ref ? person_ref : "");
    if (person != NULL) {
        policy_person_view(person, policy_variant_for(level, f->owner_agency_id == viewer->id),
                           view);
        out->person = view;
    }
}
