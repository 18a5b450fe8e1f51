#include "audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "log.h"
#include "validate.h"

void audit_note_init(struct audit_note *n, const char *operation)
{
    memset(n, 0, sizeof(*n));
    n->operation = operation;
    n->visibility = "";
}

void audit_note_case(struct audit_note *n, const char *case_id)
{
    /* Pages (lists, sync) never repeat a case; small notes may. */
    for (int i = 0; i < n->n_cases && i < 64; i++)
        if (strcmp(n->case_ids[i], case_id) == 0)
            return;
    if (n->n_cases == AUDIT_MAX_CASES) {
        char more[16];
        n->more_cases++;
        snprintf(more, sizeof(more), "%d", n->more_cases);
        audit_note_detail(n, "more_cases", more);
        return;
    }
    if (n->n_cases == n->cap_cases) {
        int cap = n->cap_cases ? n->cap_cases * 2 : 8;
        void *p = realloc(n->case_ids, (size_t)cap * sizeof(*n->case_ids));
        if (p == NULL) {
            n->more_cases++;
            return;
        }
        n->case_ids = p;
        n->cap_cases = cap;
    }
    snprintf(n->case_ids[n->n_cases++], sizeof(n->case_ids[0]), "%s", case_id);
}

void audit_note_clear(struct audit_note *n)
{
    free(n->case_ids);
    n->case_ids = NULL;
    n->n_cases = n->cap_cases = 0;
}

void audit_note_detail(struct audit_note *n, const char *key, const char *value)
{
    struct jsonw w;
    const char *one;
    size_t len = strlen(n->details), add;

    /* Serialise the pair alone, then splice it into the object. */
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, key);
    jsonw_str(&w, value);
    jsonw_obj_end(&w);
    one = jsonw_finish(&w);
    if (one == NULL) {
        jsonw_free(&w);
        return;
    }
    add = strlen(one);
    if (len == 0 && add < sizeof(n->details)) {
        memcpy(n->details, one, add + 1);
    } else if (len > 0 && len + add < sizeof(n->details)) {
        n->details[len - 1] = ','; /* replace the closing brace */
        memcpy(n->details + len, one + 1, add);
    }
    jsonw_free(&w);
}

/* The noted case ids, comma-separated (string_to_array on the way in). */
static void case_array(const struct audit_note *n, char *out, size_t outlen)
{
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < n->n_cases && len + 40 < outlen; i++)
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? "," : "", n->case_ids[i]);
}

/*
 * What a refused request claims (its actor) may be anything: the entry
 * keeps a safe copy, invalid bytes and control characters as '?', cut to
 * AUDIT_ACTOR_MAX bytes on a character boundary, so recording a bad
 * request can never fail.
 */
static void safe_text(const char *in, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t n = 0;

    while (*s && n + 5 < outlen) {
        size_t len = 1;

        if (*s >= 0xc2 && *s <= 0xf4) {
            len = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
            if (!utf8_valid((const char *)s, strnlen((const char *)s, len)) ||
                strnlen((const char *)s, len) < len)
                len = 0;
        } else if (*s >= 0x80 || *s < 0x20 || *s == 0x7f) {
            len = 0;
        }
        if (len == 0) {
            out[n++] = '?';
            s++;
            continue;
        }
        memcpy(out + n, s, len);
        n += len;
        s += len;
    }
    out[n] = '\0';
}

void audit_params(struct audit_params *p, const struct audit_note *n, const struct audit_who *who)
{
    snprintf(p->agency_id, sizeof(p->agency_id), "%d", who->agency ? who->agency->id : 0);
    snprintf(p->request_id, sizeof(p->request_id), "%" PRIu64, who->request_id);
    p->values[0] = who->agency ? p->agency_id : NULL;
    p->values[1] = who->agency ? who->agency->code : "";
    p->values[2] = who->fingerprint ? who->fingerprint : "";
    safe_text(who->actor, p->actor, sizeof(p->actor));
    p->values[3] = p->actor;
    p->values[4] = n->operation;
    p->values[5] = n->details;
    p->values[6] = p->request_id;
}

/*
 * Entries that are not part of an operation's own transaction are written
 * in batches: every entry that arrives while a batch is being committed
 * goes into the next one, so a busy server pays one commit (one fsync)
 * for many requests instead of one each. Each request's reply still waits
 * for the commit that holds its entry.
 */
#define AUDIT_BATCH_MAX      500
#define AUDIT_BATCHES_FLYING 2
#define AUDIT_FIELDS         11

struct pending {
    char *field[AUDIT_FIELDS]; /* NULL = SQL NULL */
    void (*fn)(bool, void *);
    void *arg;
    struct pending *next;
};

static struct {
    struct db_pool *db;
    struct pending *head, *tail;
    int queued;
    int flying;
    bool scheduled;
} q;

static void flush(evutil_socket_t fd, short what, void *arg);

/* A growable PostgreSQL array literal: {"a","b",NULL}. */
struct pgarr {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void arr_put(struct pgarr *a, const char *s, size_t n)
{
    if (a->failed)
        return;
    if (a->cap - a->len < n + 2) {
        size_t cap = a->cap ? a->cap : 1024;
        char *nb;
        while (cap - a->len < n + 2)
            cap *= 2;
        nb = realloc(a->buf, cap);
        if (nb == NULL) {
            a->failed = true;
            return;
        }
        a->buf = nb;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
    a->buf[a->len] = '\0';
}

static void arr_elem(struct pgarr *a, const char *v)
{
    arr_put(a, a->len > 1 ? "," : "", a->len > 1 ? 1 : 0);
    if (v == NULL) {
        arr_put(a, "NULL", 4);
        return;
    }
    arr_put(a, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            arr_put(a, "\\", 1);
        arr_put(a, p, 1);
    }
    arr_put(a, "\"", 1);
}

static void batch_done(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct pending *p = arg, *next;

    q.flying--;
    if (db != DB_OK)
        log_msg(LOG_ERROR, "audit_write_failed", db_txn_error(t));
    for (; p != NULL; p = next) {
        next = p->next;
        p->fn(db == DB_OK, p->arg);
        for (int i = 0; i < AUDIT_FIELDS; i++)
            free(p->field[i]);
        free(p);
    }
    if (q.head != NULL && !q.scheduled)
        flush(-1, 0, NULL);
}

static void flush(evutil_socket_t fd, short what, void *arg)
{
    static const char sql[] =
        "INSERT INTO audit_log (agency_id, agency_code, fingerprint, actor, operation, details,"
        " request_id, case_ids, outcome, records, visibility)"
        " SELECT coalesce(u.agency_id, p.agency_id), coalesce(nullif(u.agency_code, ''), p.code,"
        "   ''), u.fingerprint, u.actor, u.operation, u.details, u.request_id,"
        "   string_to_array(u.cases, ',')::uuid[], u.outcome, u.records, u.visibility"
        " FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        "   $7::numeric[], $8::text[], $9::text[], $10::integer[], $11::text[])"
        "   WITH ORDINALITY AS u(agency_id, agency_code, fingerprint, actor, operation, details,"
        "   request_id, cases, outcome, records, visibility, n)"
        /* A refused connection knows only its certificate: name the agency
         * the registry pins it to, if any. */
        " LEFT JOIN LATERAL (SELECT c.agency_id, a.code FROM agency_certs c JOIN agencies a"
        "   USING (agency_id) WHERE c.fingerprint = nullif(u.fingerprint, '')) p ON true"
        " ORDER BY u.n";
    struct pgarr arrays[AUDIT_FIELDS];
    const char *values[AUDIT_FIELDS];
    struct pending *batch = q.head, *last = NULL;
    struct db_txn *t;
    int n = 0;

    (void)fd;
    (void)what;
    (void)arg;
    q.scheduled = false;
    if (q.head == NULL || q.flying >= AUDIT_BATCHES_FLYING)
        return; /* a finishing batch flushes again */
    memset(arrays, 0, sizeof(arrays));
    for (int i = 0; i < AUDIT_FIELDS; i++)
        arr_put(&arrays[i], "{", 1);
    for (struct pending *p = q.head; p != NULL && n < AUDIT_BATCH_MAX; p = p->next) {
        for (int i = 0; i < AUDIT_FIELDS; i++)
            arr_elem(&arrays[i], p->field[i]);
        last = p;
        n++;
    }
    q.head = last->next;
    if (q.head == NULL)
        q.tail = NULL;
    last->next = NULL;
    q.queued -= n;
    t = db_txn_new();
    for (int i = 0; i < AUDIT_FIELDS; i++) {
        arr_put(&arrays[i], "}", 1);
        values[i] = arrays[i].failed ? NULL : arrays[i].buf;
    }
    if (db_txn_add(t, sql, AUDIT_FIELDS, values) < 0)
        abort();
    for (int i = 0; i < AUDIT_FIELDS; i++)
        free(arrays[i].buf);
    q.flying++;
    db_submit(q.db, t, batch_done, batch);
}

void audit_write(struct db_pool *db, const struct audit_note *n, const struct audit_who *who,
                 const char *outcome, void (*fn)(bool ok, void *arg), void *arg)
{
#ifdef RITRA_BENCH_NO_AUDIT
    /* Benchmark-only build (ritra-server-noaudit-bench, tools/bench/meson.build):
     * no entry is written and the caller goes on as if it had committed, so
     * that tools/bench/audit-overhead can measure what the trail costs. Never
     * compiled into ritra-server. */
    (void)db;
    (void)n;
    (void)who;
    (void)outcome;
    fn(true, arg);
    return;
#endif
    struct audit_params p;
    struct pending *e = calloc(1, sizeof(*e));
    char *cases = malloc((size_t)n->n_cases * 38 + 4), records[16];
    const char *values[AUDIT_FIELDS];
    struct timeval now = {0, 0};

    if (e == NULL)
        abort();
    audit_params(&p, n, who);
    if (cases == NULL)
        abort();
    case_array(n, cases, (size_t)n->n_cases * 38 + 4);
    snprintf(records, sizeof(records), "%d", n->records);
    memcpy(values, p.values, sizeof(p.values));
    values[7] = cases;
    values[8] = outcome;
    values[9] = records;
    values[10] = n->visibility ? n->visibility : "";
    for (int i = 0; i < AUDIT_FIELDS; i++)
        if (values[i] != NULL && (e->field[i] = strdup(values[i])) == NULL)
            abort();
    free(cases);
    e->fn = fn;
    e->arg = arg;
    if (q.tail != NULL)
        q.tail->next = e;
    else
        q.head = e;
    q.tail = e;
    q.queued++;
    q.db = db;
    /* Flush at the end of this loop turn: whatever else this turn
     * produces rides in the same transaction. */
    if (!q.scheduled) {
        q.scheduled = true;
        if (event_base_once(db_pool_base(db), -1, EV_TIMEOUT, flush, NULL, &now) < 0) {
            q.scheduled = false;
            flush(-1, 0, NULL);
        }
    }
}
