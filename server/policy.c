#include "policy.h"

#include <stdlib.h>
#include <string.h>

static enum policy_level max_level(enum policy_level a, enum policy_level b)
{
    return a > b ? a : b;
}

static bool is_h3(const struct policy_case *c)
{
    return c->handling_code != NULL && strcmp(c->handling_code, "H3") == 0;
}

enum policy_level policy_case_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                    const struct policy_case *c, const struct policy_grants *g)
{
    enum policy_level level;

    if (viewer_agency_id == c->owner_agency_id)
        return POLICY_FULL;
    if (viewer_kind == AGENCY_AUDITOR)
        return POLICY_NONE;
    level = g->direct;
    /* H3: nothing beyond explicit grants to this very agency. */
    if (!is_h3(c))
        level = max_level(level, max_level(g->by_kind, g->kind_default));
    return level;
}

enum policy_level policy_search_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                      const struct policy_case *c, const struct policy_grants *g)
{
    enum policy_level level = policy_case_level(viewer_agency_id, viewer_kind, c, g);

    if (level >= POLICY_HIT)
        return level;
    if (viewer_kind != AGENCY_POLICE && viewer_kind != AGENCY_PROSECUTOR)
        return level;
    if (is_h3(c) && !c->h3_allow_hits)
        return level;
    return POLICY_HIT;
}

enum policy_level policy_related_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                       const struct policy_case *c, const struct policy_grants *g)
{
    enum policy_level level = policy_case_level(viewer_agency_id, viewer_kind, c, g);

    if (level >= POLICY_HIT || viewer_kind == AGENCY_AUDITOR)
        return level;
    if (is_h3(c) && !c->h3_allow_hits)
        return level;
    return POLICY_HIT;
}

enum policy_variant policy_variant_for(enum policy_level level, bool is_owner)
{
    if (is_owner)
        return POLICY_VARIANT_FULL;
    switch (level) {
    case POLICY_FULL:
        return POLICY_VARIANT_SHAREABLE;
    case POLICY_RESTRICTED:
        return POLICY_VARIANT_RESTRICTED;
    case POLICY_HIT:
    case POLICY_NONE:
    default:
        return POLICY_VARIANT_NONE;
    }
}

const char *policy_variant_name(enum policy_variant v)
{
    switch (v) {
    case POLICY_VARIANT_FULL:
        return "full";
    case POLICY_VARIANT_SHAREABLE:
        return "shareable";
    case POLICY_VARIANT_RESTRICTED:
        return "restricted";
    case POLICY_VARIANT_NONE:
    default:
        return "";
    }
}

const char *policy_level_name(enum policy_level level)
{
    static const char *const names[] = {"NONE", "HIT", "RESTRICTED", "FULL"};

    if ((int)level < 0 || level > POLICY_FULL)
        return "NONE";
    return names[level];
}

bool policy_level_parse(const char *s, enum policy_level *out)
{
    if (s == NULL)
        return false;
    if (strcmp(s, "HIT") == 0)
        *out = POLICY_HIT;
    else if (strcmp(s, "RESTRICTED") == 0)
        *out = POLICY_RESTRICTED;
    else if (strcmp(s, "FULL") == 0)
        *out = POLICY_FULL;
    else
        return false;
    return true;
}

bool policy_victim_consents(const Ritra__Person *p)
{
    const Ritra__Consent *con = p->victim ? p->victim->consent : NULL;

    if (con == NULL || !con->con_consent)
        return false;
    for (size_t i = 0; i < con->n_scope; i++)
        if (strcmp(con->scope[i], "ShareWithAgencies") == 0)
            return true;
    return false;
}

static bool is_victim(const Ritra__Person *p)
{
    return p->role != NULL && strcmp(p->role, "Victim") == 0;
}

/* Empties the victim-identifying fields of a shallow copy. */
static void strip_identity(Ritra__Person *p)
{
    p->prs_firstname = "";
    p->prs_middlename = "";
    p->first_surname = "";
    p->second_surname = "";
    p->n_aliases = 0;
    p->aliases = NULL;
    p->prs_birthdate = "";
    p->n_documents = 0;
    p->documents = NULL;
    p->n_phones = 0;
    p->phones = NULL;
    p->n_addresses = 0;
    p->addresses = NULL;
    p->prs_email = "";
}

bool policy_person_identified(const Ritra__Person *p, enum policy_variant v)
{
    switch (v) {
    case POLICY_VARIANT_FULL:
        return true;
    case POLICY_VARIANT_SHAREABLE:
        return !is_victim(p) || policy_victim_consents(p);
    case POLICY_VARIANT_RESTRICTED:
        return !is_victim(p);
    case POLICY_VARIANT_NONE:
    default:
        return false;
    }
}

void policy_person_view(const Ritra__Person *p, enum policy_variant v, Ritra__Person *out)
{
    *out = *p;
    if (!policy_person_identified(p, v))
        strip_identity(out);
}

/*
 * Renders into shallow copies: arrays of copied structs for the parts
 * that change, pointers into c for everything else. Nothing of c is
 * modified; the copies live until the record is packed.
 */
int policy_render(const Ritra__Case *c, enum policy_variant v, uint8_t **out, size_t *out_len)
{
    Ritra__Case view = *c;
    Ritra__Person *persons = NULL, **person_ptrs = NULL;
    Ritra__CaseComment **comments = NULL;
    Ritra__TraffickingEvent *events = NULL, **event_ptrs = NULL;
    uint8_t *buf = NULL;
    size_t len, kept = 0;
    int rc = -1;

    if (v != POLICY_VARIANT_FULL && c->n_persons > 0) {
        persons = calloc(c->n_persons, sizeof(*persons));
        person_ptrs = calloc(c->n_persons, sizeof(*person_ptrs));
        if (persons == NULL || person_ptrs == NULL)
            goto out;
        for (size_t i = 0; i < c->n_persons; i++) {
            persons[i] = *c->persons[i];
            if (is_victim(&persons[i]) &&
                (v == POLICY_VARIANT_RESTRICTED || !policy_victim_consents(&persons[i])))
                strip_identity(&persons[i]);
            person_ptrs[i] = &persons[i];
        }
        view.persons = person_ptrs;
    }
    if (v == POLICY_VARIANT_RESTRICTED) {
        if (c->summary_sensitive)
            view.summary = "";
        if (c->n_comments > 0) {
            comments = calloc(c->n_comments, sizeof(*comments));
            if (comments == NULL)
                goto out;
            for (size_t i = 0; i < c->n_comments; i++)
                if (!c->comments[i]->sensitive)
                    comments[kept++] = c->comments[i];
            view.comments = comments;
            view.n_comments = kept;
        }
        if (c->n_events > 0) {
            events = calloc(c->n_events, sizeof(*events));
            event_ptrs = calloc(c->n_events, sizeof(*event_ptrs));
            if (events == NULL || event_ptrs == NULL)
                goto out;
            for (size_t i = 0; i < c->n_events; i++) {
                events[i] = *c->events[i];
                if (events[i].description_sensitive)
                    events[i].hte_description = "";
                event_ptrs[i] = &events[i];
            }
            view.events = event_ptrs;
        }
    }
    len = ritra__case__get_packed_size(&view);
    buf = malloc(len ? len : 1);
    if (buf == NULL || ritra__case__pack(&view, buf) != len) {
        free(buf);
        goto out;
    }
    *out = buf;
    *out_len = len;
    rc = 0;
out:
    free(persons);
    free(person_ptrs);
    free(comments);
    free(events);
    free(event_ptrs);
    return rc;
}

const char *policy_may_share(bool is_owner, enum policy_level my_level, const char *handling_code,
                             enum policy_level want, enum agency_kind grantee_kind)
{
    if (want < POLICY_HIT || want > POLICY_FULL)
        return "no such level";
    if (grantee_kind == AGENCY_AUDITOR)
        return "auditor agencies do not receive case content";
    if (is_owner)
        return NULL;
    if (my_level < POLICY_RESTRICTED)
        return "only the owner or a recipient of the content may share a case";
    if (handling_code != NULL &&
        (strcmp(handling_code, "H2") == 0 || strcmp(handling_code, "H3") == 0))
        return "the handling code forbids onward sharing without the owner";
    if (want > my_level)
        return "cannot share at a level above your own";
    return NULL;
}

const char *policy_handling_notice(const char *handling_code)
{
    if (handling_code == NULL)
        return "";
    if (strcmp(handling_code, "H1") == 0)
        return "H1: not for use in court without the owner's permission";
    if (strcmp(handling_code, "H2") == 0)
        return "H2: no onward sharing without the owner's permission";
    if (strcmp(handling_code, "H3") == 0)
        return "H3: restrictions stated by the owner in handling_conditions apply";
    return "";
}
