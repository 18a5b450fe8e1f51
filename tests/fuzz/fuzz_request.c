/*
 * libFuzzer target for everything a client's bytes meet before an
 * operation runs: the frame reader (fed in pieces, as TCP delivers them),
 * the length cap, protobuf decoding under the allocation budget, the
 * wire-level string check, envelope validation, the validation of the
 * case records inside SubmitCase / SubmitCases, and what the matcher makes
 * of untrusted names: the SearchPersons query builder and, for every
 * person in a submitted case or query, normalisation, blocking keys and
 * scoring (run on unvalidated input too: the matcher must not trust it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "case_validate.h"
#include "decode.h"
#include "frame.h"
#include "match/from_proto.h"
#include "match/score.h"
#include "match_query.h"

#define FUZZ_MAX_FRAME (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed clock keeps runs reproducible. */
#define FUZZ_NOW ((time_t)1780000000)

/* Prepares p as the matcher would and scores it against the previous one. */
static void match_person(const Ritra__Person *p)
{
    static struct score_config cfg;
    static int cfg_ready;
    struct match_proto mp;
    struct cmp_record *rec;
    struct score_result sr;
    char keys[SCORE_MAX_KEYS][SCORE_KEY_MAX];
    char explain[512];

    if (!cfg_ready) {
        score_config_default(&cfg);
        cfg_ready = 1;
    }
    if (match_proto_fill(&mp, p) < 0)
        return;
    score_blocking_keys(&mp.person, keys, SCORE_MAX_KEYS);
    rec = cmp_record_new(&mp.person);
    if (rec != NULL) {
        score_pair(&cfg, NULL, rec, rec, &sr);
        score_explain(&sr, explain, sizeof(explain));
        cmp_record_free(rec);
    }
    match_proto_clear(&mp);
}

static void match_case(const Ritra__Case *c)
{
    for (size_t i = 0; c != NULL && i < c->n_persons; i++)
        match_person(c->persons[i]);
}

static void validate_op(const Ritra__Request *req)
{
    struct field_errors fe;

    fe_init(&fe);
    if (req->op_case == RITRA__REQUEST__OP_SEARCH_PERSONS) {
        struct mquery q;

        mquery_build(&q, req->search_persons);
        match_person(&q.person);
    }
    if (req->op_case == RITRA__REQUEST__OP_SUBMIT_CASE)
        match_case(req->submit_case->case_);
    if (req->op_case == RITRA__REQUEST__OP_SUBMIT_CASES)
        for (size_t i = 0; i < req->submit_cases->n_items; i++)
            match_case(req->submit_cases->items[i]->case_);
    if (req->op_case == RITRA__REQUEST__OP_SUBMIT_CASE && req->submit_case->case_ != NULL)
        case_validate(req->submit_case->case_, "submit_case.case", &fe, FUZZ_NOW);
    if (req->op_case == RITRA__REQUEST__OP_SUBMIT_CASES) {
        for (size_t i = 0; i < req->submit_cases->n_items; i++)
            if (req->submit_cases->items[i]->case_ != NULL)
                case_validate(req->submit_cases->items[i]->case_, "item", &fe, FUZZ_NOW);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_reader *r = frame_reader_new(FUZZ_MAX_FRAME);
    size_t off = 0;
    /* The first byte picks the chunk size so splits vary with the input. */
    size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;

    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        const uint8_t *payload;
        uint32_t len;
        enum frame_status st;

        if (frame_reader_feed(r, data + off, n) < 0)
            break;
        off += n;
        while ((st = frame_reader_next(r, &payload, &len)) == FRAME_READY) {
            struct pb_budget budget;
            struct decode_result res;
            Ritra__Request *req = NULL;

            request_decode(payload, len, &budget, &req, &res);
            if (res.verdict == DECODE_OK)
                validate_op(req);
            if (req != NULL)
                ritra__request__free_unpacked(req, &budget.allocator);
            if (budget.used != 0)
                abort(); /* the budget must balance: a leak or double free */
        }
        if (st == FRAME_TOO_LARGE)
            break;
    }
    frame_reader_free(r);
    return 0;
}
