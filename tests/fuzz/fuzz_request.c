/*
 * libFuzzer target for everything a client's bytes meet before an
 * operation runs: the frame reader (fed in pieces, as TCP delivers them),
 * the length cap, protobuf decoding under the allocation budget, the
 * wire-level string check, envelope validation, and the validation of
 * the case records inside SubmitCase / SubmitCases.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "case_validate.h"
#include "decode.h"
#include "frame.h"

#define FUZZ_MAX_FRAME (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed clock keeps runs reproducible. */
#define FUZZ_NOW ((time_t)1780000000)

static void validate_op(const Ritra__Request *req)
{
    struct field_errors fe;

    fe_init(&fe);
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
