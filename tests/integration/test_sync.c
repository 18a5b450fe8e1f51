/*
 * Sync completeness: writers submit and update thousands of cases on
 * several connections while a reader pulls continuously; at the end the
 * reader has seen every case at its final version. Then the same after
 * the server is killed (SIGKILL) in the middle of the reader's pulls.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "case_fixture.h"
#include "harness.h"

#define WRITERS     4
#define CASES_PER   400
#define UPDATES_PER 400
#define BATCH       20
#define MAX_CASES   (WRITERS * CASES_PER)

static struct harness H;

static int setup(void **state)
{
    (void)state;
    if (harness_start(&H, "db_pool_size = 4\n") < 0)
        return -1;
    /*
     * The adversary of a gap-free feed is a transaction that takes its feed
     * position and then commits late. Make that common: a deferred trigger
     * sleeps at commit time, after the position was assigned.
     */
    return harness_sql(&H, "CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql "
                           "AS $$ BEGIN PERFORM pg_sleep(random() * 0.004); RETURN NULL; END $$;"
                           "CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT OR UPDATE ON "
                           "sync_feed DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                           "test_slow_commit();");
}

static int teardown(void **state)
{
    (void)state;
    harness_stop(&H);
    return 0;
}

/* Final versions as the writers know them, and as the reader saw them. */
struct ledger {
    int64_t written[MAX_CASES];
    int64_t seen[MAX_CASES];
    int bad; /* changes that made no sense; asserted by the main thread */
    pthread_mutex_t lock;
};

static int ref_index(const char *ref)
{
    int w, i;

    if (sscanf(ref, "SYNC-%d-%d", &w, &i) != 2 || w < 0 || w >= WRITERS || i < 0 || i >= CASES_PER)
        return -1;
    return w * CASES_PER + i;
}

struct writer {
    struct ledger *ledger;
    int id;
    const char *agency;
    int failures;
};

/* Submits a batch of cases w.id/index[k] with content variant. */
static void submit_batch(struct ritra_conn *c, struct writer *w, const int *index, int n,
                         int variant)
{
    static __thread struct case_fixture f[BATCH];
    Ritra__SubmitCaseRequest items[BATCH], *ptrs[BATCH];
    Ritra__SubmitCasesRequest batch = RITRA__SUBMIT_CASES_REQUEST__INIT;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    for (int k = 0; k < n; k++) {
        char ref[48];
        snprintf(ref, sizeof(ref), "SYNC-%d-%d", w->id, index[k]);
        case_fixture_init(&f[k], ref, variant + k);
        ritra__submit_case_request__init(&items[k]);
        items[k].case_ = &f[k].c;
        ptrs[k] = &items[k];
    }
    batch.n_items = (size_t)n;
    batch.items = ptrs;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
    req.submit_cases = &batch;
    if (ritra_call(c, &req, &resp, &err) < 0 || resp->status->code != RITRA__STATUS_CODE__OK) {
        w->failures++;
        if (resp)
            ritra__response__free_unpacked(resp, NULL);
        return;
    }
    for (int k = 0; k < n; k++) {
        const Ritra__SubmitCasesItem *it = resp->submit_cases->items[k];
        if (it->status->code != RITRA__STATUS_CODE__OK) {
            w->failures++;
            continue;
        }
        pthread_mutex_lock(&w->ledger->lock);
        w->ledger->written[w->id * CASES_PER + index[k]] = it->result->version;
        pthread_mutex_unlock(&w->ledger->lock);
    }
    ritra__response__free_unpacked(resp, NULL);
}

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, w->agency, &err);
    int index[BATCH];
    unsigned seed = (unsigned)w->id * 7919u + 1;

    if (c == NULL) {
        w->failures++;
        return NULL;
    }
    for (int i = 0; i < CASES_PER; i += BATCH) {
        for (int k = 0; k < BATCH; k++)
            index[k] = i + k;
        submit_batch(c, w, index, BATCH, 0);
    }
    for (int u = 0; u < UPDATES_PER; u += BATCH) {
        /* Distinct indexes within a batch, each update a new variant. */
        int base = (int)(rand_r(&seed) % (CASES_PER - BATCH));
        for (int k = 0; k < BATCH; k++)
            index[k] = base + k;
        submit_batch(c, w, index, BATCH, 1000 + u);
    }
    ritra_close(c);
    return NULL;
}

/* Pulls once from cursor; records versions; returns changes seen or -1. */
static int pull_once(struct ritra_conn *c, struct ledger *l, char *cursor, size_t cursorlen,
                     bool *more)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SyncPullRequest sync = RITRA__SYNC_PULL_REQUEST__INIT;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    int n;

    sync.cursor = cursor;
    sync.limit = 150;
    req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    req.sync_pull = &sync;
    if (ritra_call(c, &req, &resp, &err) < 0)
        return -1;
    if (resp->status->code != RITRA__STATUS_CODE__OK) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    n = (int)resp->sync_pull->n_changes;
    for (int i = 0; i < n; i++) {
        const Ritra__SyncChange *ch = resp->sync_pull->changes[i];
        int idx = ref_index(ch->case_->external_ref);
        pthread_mutex_lock(&l->lock);
        if (idx < 0 || ch->version != ch->case_->version) {
            l->bad++;
            pthread_mutex_unlock(&l->lock);
            continue;
        }
        if (ch->version > l->seen[idx])
            l->seen[idx] = ch->version;
        pthread_mutex_unlock(&l->lock);
    }
    *more = resp->sync_pull->more;
    /* The cursor advances only once the page is recorded. */
    snprintf(cursor, cursorlen, "%s", resp->sync_pull->next_cursor);
    ritra__response__free_unpacked(resp, NULL);
    return n;
}

struct reader {
    struct ledger *ledger;
    const char *agency;
    atomic_int stop;
    int pulls;
    char cursor[128];
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, r->agency, &err);
    bool more;

    if (c == NULL)
        return NULL;
    while (!atomic_load(&r->stop)) {
        if (pull_once(c, r->ledger, r->cursor, sizeof(r->cursor), &more) < 0)
            break;
        r->pulls++;
        if (!more)
            usleep(2000);
    }
    ritra_close(c);
    return NULL;
}

/* Pulls until the feed is empty. A failed pull (a busy machine right
 * after a restart) is retried on a new connection from the same cursor,
 * as a real client would. */
static void drain(struct ledger *l, const char *agency, char *cursor, size_t cursorlen)
{
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, agency, &err);
    bool more = true;
    int n = 1, failures = 0;

    assert_non_null(c);
    while (n > 0 || more) {
        n = pull_once(c, l, cursor, cursorlen, &more);
        if (n < 0) {
            assert_true(++failures < 5);
            ritra_close(c);
            usleep(500000);
            c = harness_connect(&H, agency, &err);
            assert_non_null(c);
            more = true;
        }
    }
    ritra_close(c);
}

static void assert_complete(const struct ledger *l)
{
    int missing = 0, cases = 0;

    for (int i = 0; i < MAX_CASES; i++) {
        if (l->written[i] == 0)
            continue;
        cases++;
        if (l->seen[i] != l->written[i]) {
            if (missing++ < 5)
                print_error("case %d: written v%lld, seen v%lld\n", i, (long long)l->written[i],
                            (long long)l->seen[i]);
        }
    }
    assert_int_equal(l->bad, 0);
    assert_int_equal(cases, MAX_CASES);
    assert_int_equal(missing, 0);
}

static void test_reader_sees_every_final_version_under_concurrent_writes(void **state)
{
    static struct ledger l;
    struct writer w[WRITERS];
    struct reader r;
    pthread_t wt[WRITERS], rt;

    (void)state;
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.lock, NULL);
    memset(&r, 0, sizeof(r));
    r.ledger = &l;
    r.agency = "PONAL";
    pthread_create(&rt, NULL, read_loop, &r);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){&l, i, "PONAL", 0};
        pthread_create(&wt[i], NULL, write_loop, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    atomic_store(&r.stop, 1);
    pthread_join(rt, NULL);
    assert_true(r.pulls > 5); /* it really read while the writers wrote */
    drain(&l, "PONAL", r.cursor, sizeof(r.cursor));
    assert_complete(&l);
}

static void test_resume_after_server_sigkill_mid_pull(void **state)
{
    static struct ledger l;
    struct writer w[WRITERS];
    pthread_t wt[WRITERS];
    char cursor[128] = "";
    struct ritra_error err;
    struct ritra_conn *c;
    bool more;
    int pages = 0;

    (void)state;
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.lock, NULL);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){&l, i, "ICBF", 0};
        pthread_create(&wt[i], NULL, write_loop, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    c = harness_connect(&H, "ICBF", &err);
    assert_non_null(c);
    while (pages < 3 && pull_once(c, &l, cursor, sizeof(cursor), &more) > 0)
        pages++;
    assert_int_equal(pages, 3);
    /* Kill the server while the next pull is on the wire: its reply is
     * lost, and the cursor stays where the last recorded page left it. */
    {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__SyncPullRequest sync = RITRA__SYNC_PULL_REQUEST__INIT;
        Ritra__Response *resp = NULL;
        sync.cursor = cursor;
        sync.limit = 1000;
        req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
        req.sync_pull = &sync;
        kill(H.server, SIGKILL);
        if (ritra_call(c, &req, &resp, &err) == 0)
            ritra__response__free_unpacked(resp, NULL); /* it may have won the race */
    }
    ritra_close(c);
    assert_true(harness_server_stop(&H, SIGKILL, 5000) >= 0);
    assert_int_equal(harness_server_start(&H), 0);
    drain(&l, "ICBF", cursor, sizeof(cursor));
    assert_complete(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_sees_every_final_version_under_concurrent_writes),
        cmocka_unit_test(test_resume_after_server_sigkill_mid_pull),
    };

    return cmocka_run_group_tests_name("integration-sync", tests, setup, teardown);
}
