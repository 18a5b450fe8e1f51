/*
 * A protobuf-c allocator with a byte budget. protobuf-c sizes its
 * allocations from the message, and a small frame of empty sub-messages
 * can expand a hundredfold in memory; unpacking through a budget turns
 * such a frame into a decode error instead of memory pressure.
 */
#ifndef RITRA_PBBUDGET_H
#define RITRA_PBBUDGET_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct pb_budget {
    ProtobufCAllocator allocator; /* pass &b.allocator to *_unpack / *_free_unpacked */
    size_t used;
    size_t limit;
    int exhausted; /* set when an allocation was refused */
};

void pb_budget_init(struct pb_budget *b, size_t limit);

#endif
