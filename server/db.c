#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define DB_MAX_STMTS      32
#define DB_MAX_QUEUE      8192
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
/* Our own deadline leaves PostgreSQL's statement_timeout time to fire first. */
#define DB_DEADLINE_SLACK_MS 2000

struct db_stmt {
    const char *sql;
    int nparams;
    char **values;
    int *lengths; /* NULL when every parameter is text */
    int *formats;
    int result_binary;
};

struct db_txn {
    struct db_stmt stmts[DB_MAX_STMTS];
    PGresult *results[DB_MAX_STMTS];
    int nstmts;
    /* What each result slot belongs to, in pipeline order: a statement's
     * index, or -1 for the result of a Prepare sent before it. */
    int slot_stmt[2 * DB_MAX_STMTS];
    int nslots;
    int slot;                                /* slot whose results are arriving */
    const char *prepared_here[DB_MAX_STMTS]; /* statements first prepared by this txn */
    int nprepared_here;
    char error[512];
    char sqlstate[6];
    int failed;
    enum db_outcome outcome;
    db_done_fn fn;
    void *arg;
    struct timeval queued_at;
    struct db_pool *pool;
    struct db_txn *next;
};

enum dbc_state { DBC_DOWN, DBC_CONNECTING, DBC_IDLE, DBC_BUSY };

#define DB_MAX_PREPARED 64

struct db_conn {
    struct db_pool *pool;
    PGconn *pg;
    /* Statements prepared on this connection, by SQL text pointer: every
     * statement is a static string, so the pointer names it. */
    const char *prepared[DB_MAX_PREPARED];
    int prepared_name[DB_MAX_PREPARED]; /* "r<n>"; names are never reused */
    int nprepared;
    int next_name;
    enum dbc_state state;
    struct event *ev;
    short watching;      /* the events ev was created for */
    struct event *timer; /* reconnect backoff, or the running transaction's deadline */
    int backoff_ms;
    struct db_txn *cur;
};

struct db_pool {
    struct event_base *base;
    char *conninfo;
    char options[64];
    int timeout_ms;
    int size;
    int up;
    int ever_up;
    int failed_attempts; /* consecutive, across all connections */
    struct db_conn *conns;
    struct db_txn *head, *tail;
    int queued;
    struct event *queue_timer;
    void (*ready_fn)(void *);
    void *ready_arg;
};

static void conn_start(struct db_conn *c);
static void conn_watch(struct db_conn *c, short what);
static void pool_pump(struct db_pool *p);

struct db_txn *db_txn_new(void)
{
    struct db_txn *t = calloc(1, sizeof(*t));

    if (t == NULL)
        abort();
    return t;
}

void db_txn_free(struct db_txn *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->nstmts; i++) {
        for (int j = 0; j < t->stmts[i].nparams; j++)
            free(t->stmts[i].values[j]);
        free(t->stmts[i].values);
        free(t->stmts[i].lengths);
        free(t->stmts[i].formats);
        PQclear(t->results[i]);
    }
    free(t);
}

int db_txn_add(struct db_txn *t, const char *sql, int nparams, const char *const *values)
{
    return db_txn_add_ex(t, sql, nparams, values, NULL, NULL, 0);
}

int db_txn_add_ex(struct db_txn *t, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, int result_binary)
{
    struct db_stmt *s;

    if (t->nstmts == DB_MAX_STMTS)
        return -1;
    s = &t->stmts[t->nstmts];
    memset(s, 0, sizeof(*s));
    s->sql = sql;
    s->result_binary = result_binary;
    t->nstmts++;
    if (nparams == 0)
        return 0;
    s->values = calloc((size_t)nparams, sizeof(char *));
    if (s->values == NULL)
        return -1;
    if (formats != NULL) {
        s->lengths = calloc((size_t)nparams, sizeof(int));
        s->formats = calloc((size_t)nparams, sizeof(int));
        if (s->lengths == NULL || s->formats == NULL)
            return -1; /* freed with the transaction */
    }
    for (int i = 0; i < nparams; i++) {
        size_t len;

        s->nparams++;
        if (values[i] == NULL)
            continue;
        len = formats != NULL && formats[i] ? (size_t)lengths[i] : strlen(values[i]);
        s->values[i] = malloc(len + 1);
        if (s->values[i] == NULL)
            return -1;
        memcpy(s->values[i], values[i], len);
        s->values[i][len] = '\0';
        if (formats != NULL) {
            s->lengths[i] = (int)len;
            s->formats[i] = formats[i];
        }
    }
    return 0;
}

const PGresult *db_txn_result(const struct db_txn *t, int i)
{
    if (i < 0 || i >= t->nstmts)
        return NULL;
    return t->results[i];
}

const char *db_txn_error(const struct db_txn *t)
{
    return t->error;
}

const char *db_txn_sqlstate(const struct db_txn *t)
{
    return t->sqlstate;
}

static void txn_finish(struct db_txn *t, enum db_outcome outcome)
{
    t->fn(t, outcome, t->arg);
    db_txn_free(t);
}

static void deferred_finish(evutil_socket_t fd, short what, void *arg)
{
    struct db_txn *t = arg;

    (void)fd;
    (void)what;
    txn_finish(t, t->outcome);
}

/* Fails t on a later loop turn, so callers never see their callback run
 * inside db_submit. */
static void txn_fail_later(struct db_pool *p, struct db_txn *t, enum db_outcome outcome,
                           const char *why)
{
    struct timeval now = {0, 0};

    t->outcome = outcome;
    snprintf(t->error, sizeof(t->error), "%s", why);
    if (event_base_once(p->base, -1, EV_TIMEOUT, deferred_finish, t, &now) < 0)
        txn_finish(t, outcome);
}

static void queue_fail_all(struct db_pool *p, const char *why)
{
    while (p->head != NULL) {
        struct db_txn *t = p->head;
        p->head = t->next;
        p->queued--;
        txn_fail_later(p, t, DB_UNAVAILABLE, why);
    }
    p->tail = NULL;
}

static void conn_down(struct db_conn *c, const char *reason)
{
    char why[256];
    struct db_pool *p = c->pool;
    struct db_txn *t = c->cur;
    struct logline l;
    struct timeval tv;
    int was_up = c->state == DBC_IDLE || c->state == DBC_BUSY;
    size_t n;

    /* reason often points into c->pg, which is freed below. */
    snprintf(why, sizeof(why), "%s", reason);
    n = strlen(why);
    while (n > 0 && (why[n - 1] == '\n' || why[n - 1] == ' '))
        why[--n] = '\0';
    log_begin(&l, was_up ? LOG_WARN : LOG_DEBUG, "db_conn_down");
    log_str(&l, "reason", why);
    log_i64(&l, "retry_ms", c->backoff_ms);
    log_end(&l);
    c->cur = NULL;
    if (was_up)
        p->up--;
    else
        p->failed_attempts++;
    if (c->ev != NULL) {
        event_free(c->ev);
        c->ev = NULL;
    }
    PQfinish(c->pg);
    c->pg = NULL;
    c->nprepared = 0; /* prepared statements died with the session */
    c->next_name = 0;
    c->state = DBC_DOWN;
    tv.tv_sec = c->backoff_ms / 1000;
    tv.tv_usec = (c->backoff_ms % 1000) * 1000;
    evtimer_add(c->timer, &tv);
    c->backoff_ms = c->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : c->backoff_ms * 2;
    /*
     * With nothing up, queued work would only wait for its deadline:
     * answer UNAVAILABLE now so clients learn of the outage promptly.
     */
    if (p->up == 0 && (p->ever_up || p->failed_attempts >= p->size))
        queue_fail_all(p, "database unavailable");
    /* Last, when the pool is consistent again: the callback may submit. */
    if (t != NULL) {
        snprintf(t->error, sizeof(t->error), "database connection lost: %s", why);
        txn_finish(t, t->outcome == DB_TIMEOUT ? DB_TIMEOUT : DB_UNAVAILABLE);
    }
}

/* Errors a caller must treat differently from a plain failure. */
static enum db_outcome outcome_for(const char *sqlstate)
{
    if (strncmp(sqlstate, "40", 2) == 0)
        return DB_RETRY;
    if (strcmp(sqlstate, "28000") == 0)
        return DB_UNAUTHORIZED;
    if (strcmp(sqlstate, "42501") == 0)
        return DB_DENIED;
    if (strcmp(sqlstate, "57014") == 0)
        return DB_TIMEOUT; /* statement_timeout: PostgreSQL gave up */
    return DB_SQL_ERROR;
}

static void record_error(struct db_txn *t, const PGresult *r)
{
    const char *msg, *state;

    if (t->failed)
        return;
    t->failed = 1;
    msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(t->error, sizeof(t->error), "%s", msg ? msg : PQresultErrorMessage(r));
    snprintf(t->sqlstate, sizeof(t->sqlstate), "%s", state ? state : "");
}

/* A transaction that failed may have aborted the pipeline before its
 * Prepares ran: forget them, so they are prepared again next time. */
static void forget_prepared(struct db_conn *c, struct db_txn *t)
{
    for (int k = 0; k < t->nprepared_here; k++) {
        for (int j = 0; j < c->nprepared; j++) {
            if (c->prepared[j] == t->prepared_here[k]) {
                --c->nprepared;
                c->prepared[j] = c->prepared[c->nprepared];
                c->prepared_name[j] = c->prepared_name[c->nprepared];
                break;
            }
        }
    }
}

/* The index of sql among this connection's prepared statements, -1 if not. */
static int prepared_index(const struct db_conn *c, const char *sql)
{
    for (int j = 0; j < c->nprepared; j++)
        if (c->prepared[j] == sql)
            return j;
    return -1;
}

/* Reads whatever results are ready; finishes the transaction at its Sync. */
static void conn_read_results(struct db_conn *c)
{
    while (c->cur != NULL && !PQisBusy(c->pg)) {
        struct db_txn *t = c->cur;
        PGresult *r = PQgetResult(c->pg);
        ExecStatusType st;

        if (r == NULL) { /* end of one statement's results */
            t->slot++;
            continue;
        }
        st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (t->failed)
                forget_prepared(c, t);
            c->cur = NULL;
            c->state = DBC_IDLE;
            evtimer_del(c->timer);
            txn_finish(t, t->failed ? outcome_for(t->sqlstate) : DB_OK);
            continue;
        }
        if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
            record_error(t, r);
            PQclear(r);
        } else {
            int i = t->slot < t->nslots ? t->slot_stmt[t->slot] : -1;
            if (st == PGRES_PIPELINE_ABORTED || i < 0 || t->results[i] != NULL)
                PQclear(r);
            else
                t->results[i] = r;
        }
    }
}

static void conn_flush(struct db_conn *c)
{
    int r = PQflush(c->pg);

    if (r < 0) {
        conn_down(c, PQerrorMessage(c->pg));
        return;
    }
    conn_watch(c, (short)(EV_READ | EV_PERSIST | (r == 1 ? EV_WRITE : 0)));
}

static void conn_run(struct db_conn *c, struct db_txn *t)
{
    struct timeval tv;
    int ms = c->pool->timeout_ms + DB_DEADLINE_SLACK_MS;

    c->cur = t;
    c->state = DBC_BUSY;
    t->nslots = t->slot = t->nprepared_here = 0;
    for (int i = 0; i < t->nstmts; i++) {
        const struct db_stmt *s = &t->stmts[i];
        int j = prepared_index(c, s->sql);
        char name[16];
        int ok;

        /* Parse and plan once per connection, not once per request. */
        if (j < 0 && c->nprepared < DB_MAX_PREPARED) {
            j = c->nprepared;
            c->prepared_name[j] = c->next_name++;
            snprintf(name, sizeof(name), "r%d", c->prepared_name[j]);
            if (!PQsendPrepare(c->pg, name, s->sql, s->nparams, NULL)) {
                conn_down(c, PQerrorMessage(c->pg));
                return;
            }
            c->prepared[c->nprepared++] = s->sql;
            t->prepared_here[t->nprepared_here++] = s->sql;
            t->slot_stmt[t->nslots++] = -1;
        }
        if (j >= 0) {
            snprintf(name, sizeof(name), "r%d", c->prepared_name[j]);
            ok = PQsendQueryPrepared(c->pg, name, s->nparams, (const char *const *)s->values,
                                     s->lengths, s->formats, s->result_binary);
        } else {
            ok = PQsendQueryParams(c->pg, s->sql, s->nparams, NULL, (const char *const *)s->values,
                                   s->lengths, s->formats, s->result_binary);
        }
        if (!ok) {
            conn_down(c, PQerrorMessage(c->pg));
            return;
        }
        t->slot_stmt[t->nslots++] = i;
    }
    if (!PQpipelineSync(c->pg)) {
        conn_down(c, PQerrorMessage(c->pg));
        return;
    }
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(c->timer, &tv);
    conn_flush(c);
}

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
    struct db_conn *c = arg;

    (void)fd;
    if (c->state == DBC_CONNECTING) {
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_READING:
            conn_watch(c, EV_READ);
            return;
        case PGRES_POLLING_WRITING:
            conn_watch(c, EV_WRITE);
            return;
        case PGRES_POLLING_OK:
            break;
        default:
            conn_down(c, PQerrorMessage(c->pg));
            return;
        }
        if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
            conn_down(c, PQerrorMessage(c->pg));
            return;
        }
        c->state = DBC_IDLE;
        c->backoff_ms = DB_BACKOFF_MIN_MS;
        c->pool->up++;
        c->pool->failed_attempts = 0;
        log_msg(LOG_INFO, "db_conn_up", "connected");
        conn_watch(c, EV_READ | EV_PERSIST);
        if (!c->pool->ever_up) {
            c->pool->ever_up = 1;
            if (c->pool->ready_fn != NULL)
                c->pool->ready_fn(c->pool->ready_arg);
        }
        pool_pump(c->pool);
        return;
    }
    if (what & EV_WRITE) {
        conn_flush(c);
        if (c->state == DBC_DOWN)
            return;
    }
    if (what & EV_READ) {
        /* Also reached on idle connections: that is how a server shutdown
         * (FATAL admin_shutdown) is noticed before the next query. */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
            conn_down(c, PQerrorMessage(c->pg));
            return;
        }
        conn_read_results(c);
        if (c->state == DBC_IDLE)
            pool_pump(c->pool);
    }
}

static void conn_watch(struct db_conn *c, short what)
{
    if (c->ev != NULL && c->watching == what && c->state != DBC_CONNECTING)
        return;
    if (c->ev != NULL)
        event_free(c->ev);
    c->watching = what;
    c->ev = event_new(c->pool->base, PQsocket(c->pg), what, conn_io, c);
    if (c->ev == NULL || event_add(c->ev, NULL) < 0)
        abort();
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
    struct db_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state == DBC_DOWN) {
        conn_start(c);
        return;
    }
    if (c->state == DBC_BUSY && c->cur != NULL) {
        c->cur->outcome = DB_TIMEOUT;
        conn_down(c, "no answer within db_timeout");
    }
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    log_msg(LOG_DEBUG, "db_notice", message);
}

static void conn_start(struct db_conn *c)
{
    const char *keys[] = {"dbname", "options", "application_name", NULL};
    const char *values[] = {c->pool->conninfo, c->pool->options, "ritra-server", NULL};

    c->pg = PQconnectStartParams(keys, values, 1);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        c->state = DBC_CONNECTING; /* so conn_down counts a failed attempt */
        conn_down(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetNoticeProcessor(c->pg, quiet_notice, NULL);
    c->state = DBC_CONNECTING;
    conn_watch(c, EV_WRITE);
}

static void queue_expire(evutil_socket_t fd, short what, void *arg)
{
    struct db_pool *p = arg;
    struct timeval now, age;
    struct db_txn **pp = &p->head, *t;

    (void)fd;
    (void)what;
    gettimeofday(&now, NULL);
    p->tail = NULL;
    while ((t = *pp) != NULL) {
        timersub(&now, &t->queued_at, &age);
        if (age.tv_sec * 1000 + age.tv_usec / 1000 >= p->timeout_ms) {
            *pp = t->next;
            p->queued--;
            txn_fail_later(p, t, DB_TIMEOUT,
                           "no database connection became free within db_timeout");
            continue;
        }
        p->tail = t;
        pp = &t->next;
    }
}

static void pool_pump(struct db_pool *p)
{
    for (int i = 0; i < p->size && p->head != NULL; i++) {
        struct db_conn *c = &p->conns[i];
        struct db_txn *t;

        if (c->state != DBC_IDLE)
            continue;
        t = p->head;
        p->head = t->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        t->next = NULL;
        conn_run(c, t);
    }
}

void db_submit(struct db_pool *p, struct db_txn *t, db_done_fn fn, void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->pool = p;
    t->next = NULL;
    if (p->up == 0 && (p->ever_up || p->failed_attempts >= p->size)) {
        txn_fail_later(p, t, DB_UNAVAILABLE, "database unavailable");
        return;
    }
    if (p->queued >= DB_MAX_QUEUE) {
        txn_fail_later(p, t, DB_UNAVAILABLE, "database queue full");
        return;
    }
    gettimeofday(&t->queued_at, NULL);
    if (p->tail != NULL)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    p->queued++;
    pool_pump(p);
}

struct event_base *db_pool_base(const struct db_pool *p)
{
    return p->base;
}

int db_pool_up(const struct db_pool *p)
{
    return p->up;
}

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size, int timeout_ms,
                            void (*ready_fn)(void *), void *ready_arg)
{
    struct db_pool *p = calloc(1, sizeof(*p));
    struct timeval tick = {0, 250000};

    if (p == NULL || (p->conninfo = strdup(conninfo)) == NULL)
        abort();
    p->conns = calloc((size_t)size, sizeof(*p->conns));
    if (p->conns == NULL)
        abort();
    p->base = base;
    p->size = size;
    p->timeout_ms = timeout_ms;
    p->ready_fn = ready_fn;
    p->ready_arg = ready_arg;
    /* PostgreSQL cancels its own runaway statements; we never block on PQcancel. */
    snprintf(p->options, sizeof(p->options), "-c statement_timeout=%d", timeout_ms);
    p->queue_timer = event_new(base, -1, EV_PERSIST, queue_expire, p);
    if (p->queue_timer == NULL || event_add(p->queue_timer, &tick) < 0)
        abort();
    for (int i = 0; i < size; i++) {
        struct db_conn *c = &p->conns[i];
        c->pool = p;
        c->backoff_ms = DB_BACKOFF_MIN_MS;
        c->timer = evtimer_new(base, conn_timer, c);
        if (c->timer == NULL)
            abort();
        conn_start(c);
    }
    return p;
}

void db_pool_free(struct db_pool *p)
{
    if (p == NULL)
        return;
    while (p->head != NULL) {
        struct db_txn *t = p->head;
        p->head = t->next;
        snprintf(t->error, sizeof(t->error), "server shutting down");
        txn_finish(t, DB_UNAVAILABLE);
    }
    for (int i = 0; i < p->size; i++) {
        struct db_conn *c = &p->conns[i];
        if (c->cur != NULL) {
            snprintf(c->cur->error, sizeof(c->cur->error), "server shutting down");
            txn_finish(c->cur, DB_UNAVAILABLE);
        }
        if (c->ev != NULL)
            event_free(c->ev);
        event_free(c->timer);
        PQfinish(c->pg);
    }
    event_free(p->queue_timer);
    free(p->conns);
    free(p->conninfo);
    free(p);
}
