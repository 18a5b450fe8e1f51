/*
 * The access matrix, exhaustively: every viewer agency x every state a
 * grant to it can be in x every handling code x victim consent given or
 * not, each cell a fresh case owned by FGN; then grants to a whole kind of
 * agency, with and without H3. In each cell the viewer reads (GetCase,
 * ListCases, SyncPull), tries to share onward, to revoke and to answer
 * grants that are not its own, and to close the case; every outcome is
 * compared with tables written out below from docs/access.md (not computed
 * by the server's code), and every reply is packed again and scanned byte
 * by byte: what the viewer may not see must not be there, and what it may
 * see must be (so over-redaction shows too).
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "case_fixture.h"
#include "harness.h"

/* ---- the tables -------------------------------------------------------- */

enum { LV_NONE, LV_HIT, LV_RESTRICTED, LV_FULL };
static const char *const LEVEL[] = {"NONE", "HIT", "RESTRICTED", "FULL"};

enum { FGN, PONAL, MIGRACION, ICBF, PGN, MININTERIOR, N_AG };
static const char *const AG[N_AG] = {"FGN", "PONAL", "MIGRACION", "ICBF", "PGN", "MININTERIOR"};

enum { K_PROSECUTOR, K_POLICE, K_MIGRATION, K_VICTIM_SERVICES, K_AUDITOR, K_COORDINATOR, N_KINDS };
static const char *const KIND[N_KINDS] = {"prosecutor",      "police",  "migration",
                                          "victim_services", "auditor", "coordinator"};
static const int AG_KIND[N_AG] = {K_PROSECUTOR,      K_POLICE,  K_MIGRATION,
                                  K_VICTIM_SERVICES, K_AUDITOR, K_COORDINATOR};

/* policy_defaults as shipped: coordinators HIT on every non-H3 case. */
static const int KIND_DEFAULT[N_KINDS] = {[K_COORDINATOR] = LV_HIT};

/* The states a grant to the viewer can be in, and what each leaves it:
 * only an accepted grant that has neither expired nor been revoked counts. */
enum { G_NONE, G_HIT, G_RESTRICTED, G_FULL, G_OFFERED, G_REJECTED, G_EXPIRED, G_REVOKED, N_G };
static const struct {
    const char *name;
    int offered;       /* level the owner shares at; LV_NONE: no grant */
    const char *state; /* the state it ends in */
    int counts;        /* the level it gives */
} GRANT[N_G] = {
    [G_NONE] = {"none", LV_NONE, "", LV_NONE},
    [G_HIT] = {"hit", LV_HIT, "accepted", LV_HIT},
    [G_RESTRICTED] = {"restricted", LV_RESTRICTED, "accepted", LV_RESTRICTED},
    [G_FULL] = {"full", LV_FULL, "accepted", LV_FULL},
    [G_OFFERED] = {"offered", LV_FULL, "offered", LV_NONE},
    [G_REJECTED] = {"rejected", LV_FULL, "rejected", LV_NONE},
    [G_EXPIRED] = {"expired", LV_FULL, "accepted", LV_NONE}, /* expires_at forced past */
    [G_REVOKED] = {"revoked", LV_FULL, "revoked", LV_NONE},
};

/*
 * The matrix the rules make, viewer x the state of its grant, for H0..H2
 * and for H3 (N NONE, H HIT, R RESTRICTED, F FULL), so that a reader can
 * check it against docs/access.md row by row. The test checks the rule
 * rows of expected_level() against it too. Victim identity shows only at
 * F with consent, and to the owner.
 *
 *              none hit restricted full offered rejected expired revoked
 */
static const char *const MATRIX[N_AG][2] = {
    [FGN] = {"FFFFFFFF", "FFFFFFFF"},         /* the owner */
    [PONAL] = {"NHRFNNNN", "NHRFNNNN"},       /* police: no default */
    [MIGRACION] = {"NHRFNNNN", "NHRFNNNN"},   /* migration: no default */
    [ICBF] = {"NHRFNNNN", "NHRFNNNN"},        /* victim services: no default */
    [PGN] = {"NNNNNNNN", "NNNNNNNN"},         /* auditor: never, grant or not */
    [MININTERIOR] = {"HHRFHHHH", "NHRFNNNN"}, /* coordinator: HIT by default, not on H3 */
};

enum {
    OK = RITRA__STATUS_CODE__OK,
    NF = RITRA__STATUS_CODE__NOT_FOUND,
    PD = RITRA__STATUS_CODE__PERMISSION_DENIED,
    AE = RITRA__STATUS_CODE__ALREADY_EXISTS,
    IA = RITRA__STATUS_CODE__INVALID_ARGUMENT,
};

/* Non-owners, by their level: GetCase and CloseCase. */
static const int GET_BY_LEVEL[4] = {NF, OK, OK, OK};
static const int CLOSE_BY_LEVEL[4] = {NF, PD, PD, PD};

/* ShareCase onward by a non-owner at its own level (HIT when it has none),
 * by its level and the handling code H0..H3. The owner may always share;
 * any allowed share to an agency that holds a live grant is ALREADY_EXISTS. */
static const int ONWARD[4][4] = {
    [LV_NONE] = {NF, NF, NF, NF},
    [LV_HIT] = {PD, PD, PD, PD},
    [LV_RESTRICTED] = {OK, OK, PD, PD},
    [LV_FULL] = {OK, OK, PD, PD},
};

/* What replies may carry. */
static const char *const IDENTITY[] = {
    "María José",
    "Muñoz",
    "de la Cruz",
    "Majo",
    "1994-03-07",
    "1.023.456.789",
    "AB123456",
    "+573001234567",
    "majo.munoz@example.org",
    "Carrera 7 # 12-45",
};
static const char *const SENSITIVE[] = {
    "Declaración ampliada; pide reserva.",
    "Oferta de trabajo en un restaurante",
    "Captación en Cúcuta con falsas promesas de empleo",
};
static const char *const CONTENT[] = {
    "José Francisco",
    "Pérez",
    "Contactaba a las víctimas por redes sociales",
    "Entrevista inicial realizada.",
    "Tapachula",
    "ActualVictimOfTrafficking",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the cases and what each agency should know of them ---------------- */

#define MAX_CASES 512

struct kase {
    char id[40], ref[64], updated_at[40];
    int handling; /* 0..3 */
    bool consent;
    int direct[N_AG];     /* what grants to each agency itself give */
    int by_kind[N_KINDS]; /* what grants to each kind give */
    bool live[N_AG];      /* a grant to the agency is offered or accepted */
    bool reduced[N_AG];   /* the agency's level went down */
    bool ever[N_AG];      /* its feed was told of the case */
    bool due[N_AG];       /* ... and it has not pulled since */
};

static struct kase CASES[MAX_CASES];
static int N_CASES; /* slots in use; workers fill slots assigned in advance */

static int max3(int a, int b, int c)
{
    int m = a > b ? a : b;
    return m > c ? m : c;
}

/* The rule rows of docs/access.md; every case here is owned by FGN. */
static int expected_level(int a, const struct kase *k)
{
    if (a == FGN)
        return LV_FULL; /* the owner */
    if (AG_KIND[a] == K_AUDITOR)
        return LV_NONE; /* auditors never see case content */
    if (k->handling == 3)
        return k->direct[a]; /* H3: only grants to the agency itself */
    return max3(k->direct[a], k->by_kind[AG_KIND[a]], KIND_DEFAULT[AG_KIND[a]]);
}

static bool identity_visible(int a, const struct kase *k)
{
    return a == FGN || (expected_level(a, k) == LV_FULL && k->consent);
}

static void touch(struct kase *k, int a)
{
    k->ever[a] = k->due[a] = true;
}

static void touch_kind(struct kase *k, int kind)
{
    for (int a = 0; a < N_AG; a++)
        if (AG_KIND[a] == kind)
            touch(k, a);
}

/* ---- plumbing ------------------------------------------------------------ */

static struct harness H;
static struct ritra_conn *CONN[N_AG];        /* the main thread's */
static struct ritra_conn *WCONN[N_AG][N_AG]; /* the workers', made once for both phases */
static char CURSOR[N_AG][128];               /* each feed is pulled by one thread at a time */
static char NOT_FOUND_MSG[256];
static char BYSTANDER_GRANT[2][40]; /* offered to PONAL, to ICBF */
static atomic_long N_REQUESTS, N_CHANGES, N_SCANS, N_MISMATCH;
static pthread_mutex_t LOG_LOCK = PTHREAD_MUTEX_INITIALIZER;

/* A change pulled by a worker for a case another worker owns, checked
 * once all workers are done. */
struct deferred {
    int agency;
    size_t len;
    uint8_t *packed; /* the SyncChange */
    struct deferred *next;
};

/*
 * The cells run in worker threads, each with its own connections as every
 * agency; the cases of a worker are CASES[lo..hi). Outside the workers
 * (W == NULL) the main thread's connections serve.
 */
struct worker {
    int index; /* the viewer, or the kind cell */
    int lo, hi;
    struct ritra_conn *conn[N_AG];
    struct deferred *deferred;
    bool died;
    pthread_t thread;
};

static _Thread_local struct worker *W;
static _Thread_local const char *CELL = "";

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
    va_list ap;

    if (atomic_fetch_add(&N_MISMATCH, 1) < 80) {
        pthread_mutex_lock(&LOG_LOCK);
        fprintf(stderr, "MISMATCH %s: ", CELL);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        pthread_mutex_unlock(&LOG_LOCK);
    }
}

/* Setup that cannot go on: a worker stops, the main thread fails the test. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (W == NULL)
        fail_msg("%s: %s", CELL, msg);
    mismatch("worker stopped: %s", msg);
    W->died = true;
    pthread_exit(NULL);
}

static struct ritra_conn *conn_of(int a)
{
    if (W == NULL)
        return CONN[a];
    return W->conn[a];
}

static Ritra__Response *call(int a, Ritra__Request *req)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    atomic_fetch_add(&N_REQUESTS, 1);
    if (ritra_call(conn_of(a), req, &resp, &err) < 0)
        die("%s: call failed: %s %s", AG[a], ritra_status_name(err.code), err.message);
    return resp;
}

/* True when resp has the expected status; a mismatch otherwise. */
static bool status_is(const Ritra__Response *resp, int code, int a, const char *op)
{
    if ((int)resp->status->code == code)
        return true;
    mismatch("%s %s: expected %s, got %s (%s)", AG[a], op, ritra_status_name(code),
             ritra_status_name((int)resp->status->code), resp->status->message);
    return false;
}

static void free_resp(Ritra__Response *r)
{
    ritra__response__free_unpacked(r, NULL);
}

static bool has(const uint8_t *buf, size_t n, const char *s)
{
    return memmem(buf, n, s, strlen(s)) != NULL;
}

static void scan_group(const uint8_t *buf, size_t n, const char *const *v, size_t nv, bool allowed,
                       bool must_show, int a, const char *what, const char *group)
{
    for (size_t i = 0; i < nv; i++) {
        bool found = has(buf, n, v[i]);
        if (found && !allowed)
            mismatch("%s %s: LEAK of %s \"%s\"", AG[a], what, group, v[i]);
        else if (!found && allowed && must_show)
            mismatch("%s %s: over-redacted, %s \"%s\" missing", AG[a], what, group, v[i]);
    }
}

/*
 * Scans bytes of a reply about k to viewer a at level lv. Everything not
 * allowed must be absent; where the reply carries the case, everything
 * allowed must be present.
 */
static void scan(const uint8_t *buf, size_t n, const struct kase *k, int a, int lv,
                 bool carries_case, const char *what)
{
    const char *ref[1] = {k->ref};

    atomic_fetch_add(&N_SCANS, 1);
    scan_group(buf, n, IDENTITY, NELEM(IDENTITY), identity_visible(a, k), carries_case, a, what,
               "victim identity");
    scan_group(buf, n, SENSITIVE, NELEM(SENSITIVE), lv == LV_FULL, carries_case, a, what,
               "sensitive text");
    scan_group(buf, n, CONTENT, NELEM(CONTENT), lv >= LV_RESTRICTED, carries_case, a, what,
               "case content");
    scan_group(buf, n, ref, 1, lv >= LV_RESTRICTED, carries_case, a, what, "external_ref");
}

static void scan_reply(const Ritra__Response *resp, const struct kase *k, int a, int lv,
                       bool carries_case, const char *what)
{
    size_t n = ritra__response__get_packed_size(resp);
    uint8_t *buf = malloc(n + 1);

    if (buf == NULL || ritra__response__pack(resp, buf) != n)
        die("cannot pack a response");
    scan(buf, n, k, a, lv, carries_case, what);
    free(buf);
}

/* ---- requests -------------------------------------------------------------- */

/* A request and the storage its operation needs. */
struct rq {
    Ritra__Request req;
    union {
        Ritra__GetCaseRequest get;
        Ritra__ListCasesRequest list;
        Ritra__ShareCaseRequest share;
        Ritra__RespondToShareRequest respond;
        Ritra__RevokeShareRequest revoke;
        Ritra__CloseCaseRequest close;
        Ritra__SyncPullRequest pull;
    } u;
};

static Ritra__Request *rq_get(struct rq *q, const char *id, const char *ref)
{
    ritra__request__init(&q->req);
    ritra__get_case_request__init(&q->u.get);
    q->u.get.case_id = (char *)(id ? id : "");
    q->u.get.external_ref = (char *)(ref ? ref : "");
    q->req.op_case = RITRA__REQUEST__OP_GET_CASE;
    q->req.get_case = &q->u.get;
    return &q->req;
}

/* The viewer's list of cases updated since k was made, with k's code. */
static Ritra__Request *rq_list(struct rq *q, const struct kase *k, const char *token)
{
    static char *codes[] = {"H0", "H1", "H2", "H3"};

    ritra__request__init(&q->req);
    ritra__list_cases_request__init(&q->u.list);
    q->u.list.updated_since = (char *)k->updated_at;
    q->u.list.n_handling_code = 1;
    q->u.list.handling_code = &codes[k->handling];
    q->u.list.page_size = 500;
    q->u.list.page_token = (char *)token;
    q->req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    q->req.list_cases = &q->u.list;
    return &q->req;
}

static Ritra__Request *rq_share(struct rq *q, const char *case_id, const char *agency,
                                const char *kind, int level, const char *expires_at)
{
    ritra__request__init(&q->req);
    ritra__share_case_request__init(&q->u.share);
    q->u.share.case_id = (char *)case_id;
    q->u.share.grantee_agency = (char *)(agency ? agency : "");
    q->u.share.grantee_kind = (char *)(kind ? kind : "");
    q->u.share.level = (char *)LEVEL[level];
    q->u.share.purpose = "Investigación conjunta (matriz de acceso)";
    q->u.share.expires_at = (char *)(expires_at ? expires_at : "");
    q->req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    q->req.share_case = &q->u.share;
    return &q->req;
}

static Ritra__Request *rq_respond(struct rq *q, const char *grant_id, bool accept)
{
    ritra__request__init(&q->req);
    ritra__respond_to_share_request__init(&q->u.respond);
    q->u.respond.grant_id = (char *)grant_id;
    q->u.respond.accept = accept;
    q->u.respond.reason = accept ? "" : "No corresponde a nuestra competencia";
    q->req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    q->req.respond_to_share = &q->u.respond;
    return &q->req;
}

static Ritra__Request *rq_revoke(struct rq *q, const char *grant_id)
{
    ritra__request__init(&q->req);
    ritra__revoke_share_request__init(&q->u.revoke);
    q->u.revoke.grant_id = (char *)grant_id;
    q->u.revoke.reason = "Fin de la colaboración";
    q->req.op_case = RITRA__REQUEST__OP_REVOKE_SHARE;
    q->req.revoke_share = &q->u.revoke;
    return &q->req;
}

static Ritra__Request *rq_close(struct rq *q, const char *case_id)
{
    ritra__request__init(&q->req);
    ritra__close_case_request__init(&q->u.close);
    q->u.close.case_id = (char *)case_id;
    q->u.close.cas_status = "Closed";
    q->req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
    q->req.close_case = &q->u.close;
    return &q->req;
}

static Ritra__Request *rq_pull(struct rq *q, int a)
{
    ritra__request__init(&q->req);
    ritra__sync_pull_request__init(&q->u.pull);
    q->u.pull.cursor = CURSOR[a];
    q->u.pull.limit = 1000;
    q->req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    q->req.sync_pull = &q->u.pull;
    return &q->req;
}

/* One request, waited for. */
static Ritra__Response *get_case(int a, const char *id, const char *ref)
{
    struct rq q;
    return call(a, rq_get(&q, id, ref));
}

static Ritra__Response *share(int a, const char *case_id, const char *agency, const char *kind,
                              int level, const char *expires_at)
{
    struct rq q;
    return call(a, rq_share(&q, case_id, agency, kind, level, expires_at));
}

static Ritra__Response *respond_grant(int a, const char *grant_id, bool accept)
{
    struct rq q;
    return call(a, rq_respond(&q, grant_id, accept));
}

static Ritra__Response *revoke_grant(int a, const char *grant_id)
{
    struct rq q;
    return call(a, rq_revoke(&q, grant_id));
}

/* ---- sync ------------------------------------------------------------------ */

/* The cases this thread may look at: a worker its own, the main thread all. */
static struct kase *find_case(const char *id)
{
    int lo = W ? W->lo : 0, hi = W ? W->hi : N_CASES;

    for (int i = lo; i < hi; i++)
        if (strcmp(CASES[i].id, id) == 0)
            return &CASES[i];
    return NULL;
}

static void check_change(int a, const Ritra__SyncChange *ch)
{
    struct kase *k = find_case(ch->case_id);
    size_t n = ritra__sync_change__get_packed_size(ch);
    uint8_t *buf = malloc(n + 1);
    int lv;

    if (buf == NULL || ritra__sync_change__pack(ch, buf) != n)
        die("cannot pack a sync change");
    if (k == NULL && W != NULL) {
        /* Another worker's case: checked when all are done. */
        struct deferred *d = malloc(sizeof(*d));
        if (d == NULL)
            die("out of memory");
        d->agency = a;
        d->len = n;
        d->packed = buf;
        d->next = W->deferred;
        W->deferred = d;
        return;
    }
    atomic_fetch_add(&N_CHANGES, 1);
    if (k == NULL) {
        mismatch("%s sync: change for a case this test never made: %s", AG[a], ch->case_id);
        free(buf);
        return;
    }
    if (!k->ever[a])
        mismatch("%s sync: told of %s, which nothing ever showed it", AG[a], k->ref);
    k->due[a] = false;
    lv = expected_level(a, k);
    if (strcmp(ch->visibility, LEVEL[lv]) != 0)
        mismatch("%s sync %s: visibility expected %s, got %s", AG[a], k->ref, LEVEL[lv],
                 ch->visibility);
    if (lv == LV_NONE && !ch->visibility_lost)
        mismatch("%s sync %s: NONE without visibility_lost", AG[a], k->ref);
    if (lv > LV_NONE && !k->reduced[a] && ch->visibility_lost)
        mismatch("%s sync %s: visibility_lost at %s", AG[a], k->ref, LEVEL[lv]);
    if ((lv >= LV_RESTRICTED) != (ch->case_ != NULL))
        mismatch("%s sync %s: case %s at %s", AG[a], k->ref, ch->case_ ? "present" : "missing",
                 LEVEL[lv]);
    if ((lv == LV_HIT) != (ch->hit != NULL))
        mismatch("%s sync %s: hit %s at %s", AG[a], k->ref, ch->hit ? "present" : "missing",
                 LEVEL[lv]);
    if (ch->hit != NULL && strcmp(ch->hit->owner_agency, "FGN") != 0)
        mismatch("%s sync %s: hit owner %s", AG[a], k->ref, ch->hit->owner_agency);
    if (ch->case_ != NULL && (ch->version != 1 || strcmp(ch->case_->external_ref, k->ref) != 0))
        mismatch("%s sync %s: version %lld ref %s", AG[a], k->ref, (long long)ch->version,
                 ch->case_->external_ref);
    if (lv == LV_NONE && ch->version != 0)
        mismatch("%s sync %s: version %lld on a loss", AG[a], k->ref, (long long)ch->version);
    scan(buf, n, k, a, lv, ch->case_ != NULL, "sync change");
    free(buf);
}

static void check_deferred(struct worker *w)
{
    while (w->deferred != NULL) {
        struct deferred *d = w->deferred;
        Ritra__SyncChange *ch = ritra__sync_change__unpack(NULL, d->len, d->packed);
        assert_non_null(ch);
        check_change(d->agency, ch);
        ritra__sync_change__free_unpacked(ch, NULL);
        w->deferred = d->next;
        free(d->packed);
        free(d);
    }
}

static int n_due(int a)
{
    int n = 0, lo = W ? W->lo : 0, hi = W ? W->hi : N_CASES;

    for (int i = lo; i < hi; i++)
        n += CASES[i].due[a];
    return n;
}

/* Pulls a's feed to its end; everything due must have come. A transaction
 * still running elsewhere holds later positions back, so wait a little. */
static void drain(int a)
{
    int lo = W ? W->lo : 0, hi = W ? W->hi : N_CASES;

    for (int attempt = 0;; attempt++) {
        bool more;
        do {
            struct rq q;
            Ritra__Response *resp = call(a, rq_pull(&q, a));
            if (!status_is(resp, OK, a, "SyncPull")) {
                free_resp(resp);
                return;
            }
            for (size_t i = 0; i < resp->sync_pull->n_changes; i++)
                check_change(a, resp->sync_pull->changes[i]);
            snprintf(CURSOR[a], sizeof(CURSOR[a]), "%s", resp->sync_pull->next_cursor);
            more = resp->sync_pull->more;
            free_resp(resp);
        } while (more);
        if (n_due(a) == 0)
            return;
        if (attempt == 200)
            break;
        usleep(10000);
    }
    for (int i = lo; i < hi; i++) {
        if (CASES[i].due[a]) {
            mismatch("%s sync: never told of %s", AG[a], CASES[i].ref);
            CASES[i].due[a] = false;
        }
    }
}

static void drain_all(void)
{
    for (int a = 0; a < N_AG; a++)
        drain(a);
}

/* ---- setting a cell up ------------------------------------------------------- */

/* Submits a fresh case into slot k. */
static struct kase *new_case(struct kase *k, const char *ref, int handling, bool consent)
{
    static const char *const codes[] = {"H0", "H1", "H2", "H3"};
    struct case_fixture f;
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;
    Ritra__Response *resp;

    memset(k, 0, sizeof(*k));
    snprintf(k->ref, sizeof(k->ref), "%s", ref);
    k->handling = handling;
    k->consent = consent;
    case_fixture_init(&f, ref, 0);
    f.c.handling_code = (char *)codes[handling];
    if (handling == 3)
        f.c.handling_conditions = "Uso exclusivo de la investigación penal";
    if (!consent) {
        f.consent.con_consent = 0;
        f.consent.n_scope = 0;
    }
    /* The owner's feed, and the feeds of those who see it by default. */
    for (int a = 0; a < N_AG; a++)
        if (expected_level(a, k) >= LV_HIT)
            touch(k, a);
    case_fixture_request(&f, &req, &sub, 0);
    resp = call(FGN, &req);
    if (resp->status->code != RITRA__STATUS_CODE__OK)
        die("%s: submit: %s", ref, resp->status->message);
    snprintf(k->id, sizeof(k->id), "%s", resp->submit_case->case_id);
    free_resp(resp);
    /* The owner's own view: all of it (so the scans below can tell
     * redaction from a fixture that lacks the values). */
    resp = get_case(FGN, k->id, NULL);
    if (resp->status->code != RITRA__STATUS_CODE__OK || resp->get_case->case_ == NULL)
        die("%s: owner cannot read its case", ref);
    snprintf(k->updated_at, sizeof(k->updated_at), "%s", resp->get_case->case_->updated_at);
    scan_reply(resp, k, FGN, LV_FULL, true, "GetCase (owner)");
    free_resp(resp);
    return k;
}

static void sql_or_die(const char *sql)
{
    if (harness_sql(&H, sql) != 0)
        die("SQL failed: %s", sql);
}

/* A grant row written with SQL, for the auditor the server refuses to share with. */
static void forced_grant(struct kase *k, int a, int g, char *id_out)
{
    char sql[1024];

    snprintf(id_out, 40, "00000000-0000-4000-8000-%012x", (unsigned)(k - CASES));
    snprintf(sql, sizeof(sql),
             "INSERT INTO grants (grant_id, case_id, grantor_agency_id, grantee_agency_id, level,"
             " purpose, expires_at, state, created_by, updated_by)"
             " SELECT '%s', '%s', o.agency_id, g.agency_id, %d, 'forced by test', %s, '%s',"
             " 'test', 'test' FROM agencies o, agencies g WHERE o.code = 'FGN' AND g.code = '%s'",
             id_out, k->id, GRANT[g].offered,
             g == G_EXPIRED ? "now() - interval '1 second'" : "NULL", GRANT[g].state, AG[a]);
    sql_or_die(sql);
    k->direct[a] = GRANT[g].counts;
    /* The server's expiry tick will mark it expired and tell its grantee. */
    k->ever[a] |= g == G_EXPIRED;
}

/* Brings the grant from the owner to viewer v into state g; the grant's id
 * goes to id_out ("" when there is none). */
static void grant_to(struct kase *k, int v, int g, char *id_out)
{
    Ritra__Response *resp;
    char sql[256];

    id_out[0] = '\0';
    if (g == G_NONE)
        return;
    resp = share(FGN, k->id, AG[v], NULL, GRANT[g].offered,
                 g == G_EXPIRED ? "2099-12-31T00:00:00Z" : NULL);
    if (v == FGN) { /* nobody shares with itself */
        status_is(resp, IA, FGN, "ShareCase to itself");
        free_resp(resp);
        return;
    }
    if (v == PGN) { /* nor with auditors; the database is given one anyway */
        status_is(resp, PD, FGN, "ShareCase to an auditor");
        free_resp(resp);
        forced_grant(k, v, g, id_out);
        return;
    }
    touch(k, v);
    if (!status_is(resp, OK, FGN, "ShareCase") ||
        strcmp(resp->share_case->grant->state, "offered") != 0)
        die("%s: the owner could not share with %s", k->ref, AG[v]);
    snprintf(id_out, 40, "%s", resp->share_case->grant->grant_id);
    free_resp(resp);
    k->live[v] = true;
    if (g != G_OFFERED) {
        const char *want = g == G_REJECTED ? "rejected" : "accepted";
        resp = respond_grant(v, id_out, g != G_REJECTED);
        if (status_is(resp, OK, v, "RespondToShare") &&
            strcmp(resp->respond_to_share->grant->state, want) != 0)
            mismatch("%s RespondToShare: state %s, expected %s", AG[v],
                     resp->respond_to_share->grant->state, want);
        free_resp(resp);
        k->live[v] = g != G_REJECTED;
    }
    if (g == G_REVOKED) {
        resp = revoke_grant(FGN, id_out);
        status_is(resp, OK, FGN, "RevokeShare");
        free_resp(resp);
        k->live[v] = false;
    }
    if (g == G_EXPIRED) {
        snprintf(sql, sizeof(sql),
                 "UPDATE grants SET expires_at = now() - interval '1 second' WHERE grant_id = '%s'",
                 id_out);
        sql_or_die(sql);
    }
    if (g == G_REVOKED || g == G_EXPIRED)
        k->reduced[v] = true;
    k->direct[v] = GRANT[g].counts;
}

/* ---- what one viewer does in a cell ----------------------------------------- */

static void check_get(struct kase *k, int v, int lv, const Ritra__Response *resp)
{
    const Ritra__GetCaseResult *r;

    if (!status_is(resp, v == FGN ? OK : GET_BY_LEVEL[lv], v, "GetCase"))
        goto out;
    if (lv == LV_NONE) {
        /* Indistinguishable from a case that does not exist. */
        if (strcmp(resp->status->message, NOT_FOUND_MSG) != 0)
            mismatch("%s GetCase: NOT_FOUND says \"%s\", a missing case \"%s\"", AG[v],
                     resp->status->message, NOT_FOUND_MSG);
        goto out;
    }
    r = resp->get_case;
    if (strcmp(r->visibility, LEVEL[lv]) != 0)
        mismatch("%s GetCase: visibility expected %s, got %s", AG[v], LEVEL[lv], r->visibility);
    if (lv == LV_HIT) {
        if (r->case_ != NULL || r->hit == NULL)
            mismatch("%s GetCase: at HIT, case %p hit %p", AG[v], (void *)r->case_, (void *)r->hit);
        else if (strcmp(r->hit->owner_agency, "FGN") != 0 || strcmp(r->hit->case_id, k->id) != 0)
            mismatch("%s GetCase: hit names %s/%s", AG[v], r->hit->owner_agency, r->hit->case_id);
    } else {
        if (r->case_ == NULL || r->hit != NULL)
            mismatch("%s GetCase: at %s, case %p hit %p", AG[v], LEVEL[lv], (void *)r->case_,
                     (void *)r->hit);
        else if (strcmp(r->case_->external_ref, k->ref) != 0 || r->case_->version != 1 ||
                 strcmp(r->case_->owner_agency, "FGN") != 0)
            mismatch("%s GetCase: case %s v%lld owner %s", AG[v], r->case_->external_ref,
                     (long long)r->case_->version, r->case_->owner_agency);
        if ((*r->handling_notice != '\0') != (k->handling > 0))
            mismatch("%s GetCase: H%d with handling_notice \"%s\"", AG[v], k->handling,
                     r->handling_notice);
    }
out:
    scan_reply(resp, k, v, lv, resp->get_case && resp->get_case->case_, "GetCase");
}

/* external_ref names a case only in its owner's own namespace. */
static void check_get_by_ref(struct kase *k, int v, int lv, const Ritra__Response *resp)
{
    status_is(resp, v == FGN ? OK : NF, v, "GetCase by external_ref");
    scan_reply(resp, k, v, lv, resp->get_case && resp->get_case->case_, "GetCase by ref");
}

/* The first page came in the batch; any further ones are fetched here. */
static void check_list(struct kase *k, int v, int lv, const Ritra__Response *first)
{
    const Ritra__Response *resp = first;
    Ritra__Response *more = NULL;
    char token[256];
    bool found = false;

    for (;;) {
        if (!status_is(resp, OK, v, "ListCases"))
            break;
        for (size_t i = 0; i < resp->list_cases->n_cases; i++) {
            const Ritra__CaseSummary *s = resp->list_cases->cases[i];
            /* Other workers' cases may be listed too; each is checked
             * by its own worker. */
            struct kase *other = find_case(s->case_id);
            int olv = other ? expected_level(v, other) : LV_NONE;
            if (other != NULL && strcmp(s->visibility, LEVEL[olv]) != 0)
                mismatch("%s ListCases: %s listed at %s, expected %s", AG[v], other->ref,
                         s->visibility, LEVEL[olv]);
            if (other == k)
                found = true;
            if (strcmp(s->visibility, "HIT") == 0 &&
                (*s->external_ref || s->version || *s->cas_status))
                mismatch("%s ListCases: HIT row carries content", AG[v]);
            if (other == k && olv >= LV_RESTRICTED && strcmp(s->external_ref, k->ref) != 0)
                mismatch("%s ListCases: external_ref \"%s\"", AG[v], s->external_ref);
        }
        scan_reply(resp, k, v, lv, false, "ListCases");
        if (*resp->list_cases->next_page_token == '\0')
            break;
        snprintf(token, sizeof(token), "%s", resp->list_cases->next_page_token);
        if (more != NULL)
            free_resp(more);
        {
            struct rq q;
            resp = more = call(v, rq_list(&q, k, token));
        }
    }
    if (more != NULL)
        free_resp(more);
    /* ListCases shows a case from RESTRICTED up (docs/access.md): a HIT
     * is reached through GetCase and SyncPull, not a filtered list. */
    if (found != (lv >= LV_RESTRICTED))
        mismatch("%s ListCases: case %s at %s", AG[v], found ? "listed" : "not listed", LEVEL[lv]);
}

/* The onward share was to `to`; the viewer then revokes what it made. */
static void check_onward(struct kase *k, int v, int lv, int to, const char *own_grant,
                         const Ritra__Response *resp)
{
    int want = v == FGN ? OK : ONWARD[lv][k->handling];
    Ritra__Response *r;
    struct rq q;
    char made[40];

    if (want == OK && k->live[to])
        want = AE;
    scan_reply(resp, k, v, lv, false, "ShareCase onward");
    if (!status_is(resp, want, v, "ShareCase onward") || want != OK)
        return;
    touch(k, to);
    {
        const Ritra__Grant *g = resp->share_case->grant;
        if (strcmp(g->grantor_agency, AG[v]) != 0 || strcmp(g->grantee_agency, AG[to]) != 0 ||
            strcmp(g->state, "offered") != 0 || strcmp(g->level, LEVEL[lv]) != 0)
            mismatch("%s ShareCase onward: grant %s->%s %s %s", AG[v], g->grantor_agency,
                     g->grantee_agency, g->level, g->state);
        if (own_grant != NULL && *own_grant && strcmp(g->parent_grant_id, own_grant) != 0)
            mismatch("%s ShareCase onward: parent_grant_id \"%s\", expected %s", AG[v],
                     g->parent_grant_id, own_grant);
        snprintf(made, sizeof(made), "%s", g->grant_id);
    }
    /* Whoever made a grant may revoke it. */
    r = call(v, rq_revoke(&q, made));
    status_is(r, OK, v, "RevokeShare of its own grant");
    scan_reply(r, k, v, lv, false, "RevokeShare");
    free_resp(r);
    touch(k, to);
}

/*
 * Everything viewer v tries on k, pipelined: reads, an onward share, a
 * revocation of the owner's grant, an answer to a grant addressed to
 * someone else, closing the case. own_grant is the grant that gives v its
 * level (an onward share names it as parent).
 */
static void viewer_ops(struct kase *k, int v, const char *owners_grant, const char *own_grant)
{
    enum { B_GET, B_GET_REF, B_LIST, B_ONWARD, B_RESPOND, B_REVOKE, B_CLOSE, B_N };
    int lv = expected_level(v, k), to = v == ICBF ? MIGRACION : ICBF;
    struct rq q[B_N];
    Ritra__Request *reqs[B_N];
    Ritra__Response *resps[B_N];
    struct ritra_error err;
    size_t n = v == FGN ? B_REVOKE : B_N; /* the owner may revoke and close */

    reqs[B_GET] = rq_get(&q[B_GET], k->id, NULL);
    reqs[B_GET_REF] = rq_get(&q[B_GET_REF], NULL, k->ref);
    reqs[B_LIST] = rq_list(&q[B_LIST], k, "");
    reqs[B_ONWARD] = rq_share(&q[B_ONWARD], k->id, AG[to], NULL, lv == LV_NONE ? LV_HIT : lv, NULL);
    /* Nobody answers a grant addressed to someone else. */
    reqs[B_RESPOND] = rq_respond(&q[B_RESPOND], BYSTANDER_GRANT[v == PONAL], true);
    /* Only the grantor or the case's owner may revoke. */
    reqs[B_REVOKE] =
        rq_revoke(&q[B_REVOKE], owners_grant && *owners_grant ? owners_grant : BYSTANDER_GRANT[0]);
    reqs[B_CLOSE] = rq_close(&q[B_CLOSE], k->id);
    atomic_fetch_add(&N_REQUESTS, (long)n);
    if (ritra_call_batch(conn_of(v), reqs, n, resps, &err) < 0)
        die("%s: batch failed: %s %s", AG[v], ritra_status_name(err.code), err.message);
    check_get(k, v, lv, resps[B_GET]);
    check_get_by_ref(k, v, lv, resps[B_GET_REF]);
    check_list(k, v, lv, resps[B_LIST]);
    check_onward(k, v, lv, to, own_grant, resps[B_ONWARD]);
    status_is(resps[B_RESPOND], NF, v, "RespondToShare to another's grant");
    scan_reply(resps[B_RESPOND], k, v, lv, false, "RespondToShare");
    if (v != FGN) {
        status_is(resps[B_REVOKE], NF, v, "RevokeShare of the owner's grant");
        scan_reply(resps[B_REVOKE], k, v, lv, false, "RevokeShare");
        status_is(resps[B_CLOSE], CLOSE_BY_LEVEL[lv], v, "CloseCase");
        scan_reply(resps[B_CLOSE], k, v, lv, false, "CloseCase");
    }
    for (size_t i = 0; i < n; i++)
        free_resp(resps[i]);
}

/* ---- the test ------------------------------------------------------------------- */

#define CELLS_PER_VIEWER (N_G * 4 * 2)

static long long T0;

static int setup(void **state)
{
    struct ritra_error err;

    (void)state;
    T0 = harness_now_ms();
    if (harness_start(&H, NULL) < 0)
        return -1;
    for (int a = 0; a < N_AG; a++) {
        CONN[a] = harness_connect(&H, AG[a], &err);
        if (CONN[a] == NULL) {
            fprintf(stderr, "setup: cannot connect as %s: %s\n", AG[a], err.message);
            harness_stop(&H); /* cmocka runs no teardown after a failed setup */
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int a = 0; a < N_AG; a++) {
        ritra_close(CONN[a]);
        for (int i = 0; i < N_AG; i++)
            ritra_close(WCONN[i][a]);
    }
    harness_stop(&H);
    return 0;
}

/* A case with two grants left offered, for the viewers to fail to touch. */
static void make_bystander(void)
{
    struct kase *k = new_case(&CASES[N_CASES++], "ACC-bystander", 0, true);

    for (int i = 0; i < 2; i++) {
        int to = i == 0 ? PONAL : ICBF;
        Ritra__Response *resp = share(FGN, k->id, AG[to], NULL, LV_FULL, NULL);
        assert_int_equal(resp->status->code, RITRA__STATUS_CODE__OK);
        snprintf(BYSTANDER_GRANT[i], sizeof(BYSTANDER_GRANT[i]), "%s",
                 resp->share_case->grant->grant_id);
        free_resp(resp);
        touch(k, to);
        k->live[to] = true;
    }
}

static void bystander_untouched(void)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListSharesRequest q = RITRA__LIST_SHARES_REQUEST__INIT;
    Ritra__Response *resp;

    q.direction = "given";
    q.case_id = CASES[0].id;
    req.op_case = RITRA__REQUEST__OP_LIST_SHARES;
    req.list_shares = &q;
    resp = call(FGN, &req);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__OK);
    assert_int_equal(resp->list_shares->n_grants, 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_equal(resp->list_shares->grants[i]->state, "offered");
    free_resp(resp);
}

/* Runs n workers, each on slots_each fresh slots, and checks what they
 * set aside once all are done. */
static void run_workers(int n, int slots_each, void *(*fn)(void *))
{
    struct worker w[N_AG];
    struct ritra_error err;

    assert_true(n <= N_AG);
    assert_true(N_CASES + n * slots_each <= MAX_CASES);
    memset(w, 0, sizeof(w));
    for (int i = 0; i < n; i++) {
        w[i].index = i;
        w[i].lo = N_CASES + i * slots_each;
        w[i].hi = w[i].lo + slots_each;
        for (int a = 0; a < N_AG; a++) {
            if (WCONN[i][a] == NULL)
                WCONN[i][a] = harness_connect(&H, AG[a], &err);
            assert_non_null(WCONN[i][a]);
            w[i].conn[a] = WCONN[i][a];
        }
    }
    N_CASES += n * slots_each;
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&w[i].thread, NULL, fn, &w[i]), 0);
    for (int i = 0; i < n; i++)
        pthread_join(w[i].thread, NULL);
    CELL = "after the workers";
    for (int i = 0; i < n; i++)
        assert_false(w[i].died);
    for (int i = 0; i < n; i++)
        check_deferred(&w[i]);
}

/* One viewer's 64 cells: every grant state x handling code x consent. */
static void *viewer_worker(void *arg)
{
    struct worker *w = arg;
    int v = w->index, slot = w->lo;
    char grant[40], cell[96];

    W = w;
    for (int g = 0; g < N_G; g++)
        for (int h = 0; h < 4; h++)
            for (int c = 1; c >= 0; c--) {
                struct kase *k = &CASES[slot++];
                snprintf(cell, sizeof(cell), "ACC-%s-%s-H%d-%s", AG[v], GRANT[g].name, h,
                         c ? "consent" : "noconsent");
                CELL = cell;
                new_case(k, cell, h, c);
                grant_to(k, v, g, grant);
                if (MATRIX[v][h == 3][g] != "NHRF"[expected_level(v, k)])
                    mismatch("the rule rows give %s, the matrix %c", LEVEL[expected_level(v, k)],
                             MATRIX[v][h == 3][g]);
                viewer_ops(k, v, grant, GRANT[g].counts >= LV_RESTRICTED ? grant : NULL);
                /* The viewer's own feed, cell by cell; what the others'
                 * feeds hear is checked by their own workers and at the end. */
                drain(v);
            }
    CELL = "";
    return NULL;
}

static void test_every_viewer_grant_state_handling_code_and_consent(void **state)
{
    Ritra__Response *resp;
    long long t0 = harness_now_ms();

    (void)state;
    resp = get_case(PONAL, "00000000-0000-4000-8000-000000000000", NULL);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__NOT_FOUND);
    snprintf(NOT_FOUND_MSG, sizeof(NOT_FOUND_MSG), "%s", resp->status->message);
    free_resp(resp);
    make_bystander();
    drain_all();
    run_workers(N_AG, CELLS_PER_VIEWER, viewer_worker);
    drain_all();
    bystander_untouched();
    print_message("access matrix: %d cells (%d viewers x %d grant states x 4 handling codes x 2 "
                  "consents), %lld ms\n",
                  N_AG * CELLS_PER_VIEWER, N_AG, N_G, harness_now_ms() - t0);
}

/* Grants to a whole kind, alone and beside a grant to one agency of it. */
static const struct {
    const char *name;
    int kind, level;
    bool revoked;
    int agency, agency_level; /* a direct grant too, or -1 */
} KIND_CELLS[] = {
    {"police-restricted", K_POLICE, LV_RESTRICTED, false, -1, 0},
    {"police-restricted+ponal-hit", K_POLICE, LV_RESTRICTED, false, PONAL, LV_HIT},
    {"coordinator-full", K_COORDINATOR, LV_FULL, false, -1, 0},
    {"migration-hit", K_MIGRATION, LV_HIT, false, -1, 0},
    {"victim_services-full+icbf-restricted", K_VICTIM_SERVICES, LV_FULL, false, ICBF,
     LV_RESTRICTED},
    {"police-full-revoked", K_POLICE, LV_FULL, true, -1, 0},
};

/* The grant that gives v its level (RESTRICTED or FULL) on k, which an
 * onward share by v must name as its parent; NULL where v cannot share. */
static const char *level_source(const struct kase *k, int v, const char *kind_grant,
                                const char *direct)
{
    int lv = expected_level(v, k);

    if (v == FGN || lv < LV_RESTRICTED)
        return NULL;
    if (k->handling != 3 && k->by_kind[AG_KIND[v]] == lv && k->direct[v] < lv)
        return kind_grant;
    return direct;
}

static void kind_cell(size_t i, int h, bool consent, struct kase *k)
{
    char cell[128], kind_grant[40], direct[40] = "";
    Ritra__Response *resp;
    int kind = KIND_CELLS[i].kind, a = KIND_CELLS[i].agency;

    snprintf(cell, sizeof(cell), "ACK-%s-H%d-%s", KIND_CELLS[i].name, h,
             consent ? "consent" : "noconsent");
    CELL = cell;
    new_case(k, cell, h, consent);
    if (a >= 0) {
        resp = share(FGN, k->id, AG[a], NULL, KIND_CELLS[i].agency_level, NULL);
        if (!status_is(resp, OK, FGN, "ShareCase"))
            die("the owner could not share with %s", AG[a]);
        snprintf(direct, sizeof(direct), "%s", resp->share_case->grant->grant_id);
        free_resp(resp);
        resp = respond_grant(a, direct, true);
        status_is(resp, OK, a, "RespondToShare");
        free_resp(resp);
        touch(k, a);
        k->live[a] = true;
        k->direct[a] = KIND_CELLS[i].agency_level;
    }
    touch_kind(k, kind);
    resp = share(FGN, k->id, NULL, KIND[kind], KIND_CELLS[i].level, NULL);
    if (!status_is(resp, OK, FGN, "ShareCase to a kind"))
        die("the owner could not share with a kind");
    if (strcmp(resp->share_case->grant->state, "accepted") != 0)
        mismatch("a grant to a kind is born %s", resp->share_case->grant->state);
    snprintf(kind_grant, sizeof(kind_grant), "%s", resp->share_case->grant->grant_id);
    free_resp(resp);
    k->by_kind[kind] = KIND_CELLS[i].level;
    if (KIND_CELLS[i].revoked) {
        resp = revoke_grant(FGN, kind_grant);
        status_is(resp, OK, FGN, "RevokeShare of a kind grant");
        free_resp(resp);
        k->by_kind[kind] = LV_NONE;
        for (int b = 0; b < N_AG; b++)
            k->reduced[b] |= AG_KIND[b] == kind;
    }
    for (int v = 0; v < N_AG; v++)
        viewer_ops(k, v, kind_grant, level_source(k, v, kind_grant, v == a ? direct : ""));
}

/* One kind cell's four cases: H0 and H3, with and without consent. */
static void *kind_worker(void *arg)
{
    struct worker *w = arg;
    int slot = w->lo;

    W = w;
    for (int h = 0; h <= 3; h += 3)
        for (int c = 1; c >= 0; c--)
            kind_cell((size_t)w->index, h, c, &CASES[slot++]);
    CELL = "";
    return NULL;
}

static void test_kind_grants_count_except_on_h3(void **state)
{
    int n = (int)NELEM(KIND_CELLS);
    long long t0 = harness_now_ms();

    (void)state;
    run_workers(n, 4, kind_worker);
    /* Every feed the kind grants told, now. */
    drain_all();
    print_message("kind grants: %d cases x %d viewers = %d evaluations, %lld ms\n", n * 4, N_AG,
                  n * 4 * N_AG, harness_now_ms() - t0);
}

static void test_no_mismatch_anywhere(void **state)
{
    (void)state;
    print_message("access: %d cases, %ld requests, %ld sync changes checked, %ld replies "
                  "scanned, %ld mismatches, %lld ms including start-up\n",
                  N_CASES, atomic_load(&N_REQUESTS), atomic_load(&N_CHANGES), atomic_load(&N_SCANS),
                  atomic_load(&N_MISMATCH), harness_now_ms() - T0);
    assert_int_equal(atomic_load(&N_MISMATCH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_viewer_grant_state_handling_code_and_consent),
        cmocka_unit_test(test_kind_grants_count_except_on_h3),
        cmocka_unit_test(test_no_mismatch_anywhere),
    };

    return cmocka_run_group_tests_name("integration-access", tests, setup, teardown);
}
