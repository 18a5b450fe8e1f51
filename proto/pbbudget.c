#include "pbbudget.h"

#include <stdlib.h>

/* Each block carries its size in front so free can credit the budget. */
union pb_header {
    size_t size;
    max_align_t align;
};

static void *budget_alloc(void *data, size_t size)
{
    struct pb_budget *b = data;
    union pb_header *h;

    if (b->limit - b->used < sizeof(*h) || size > b->limit - b->used - sizeof(*h)) {
        b->exhausted = 1;
        return NULL;
    }
    h = malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    b->used += sizeof(*h) + size;
    return h + 1;
}

static void budget_free(void *data, void *ptr)
{
    struct pb_budget *b = data;
    union pb_header *h;

    if (ptr == NULL)
        return;
    h = (union pb_header *)ptr - 1;
    b->used -= sizeof(*h) + h->size;
    free(h);
}

void pb_budget_init(struct pb_budget *b, size_t limit)
{
    b->allocator.alloc = budget_alloc;
    b->allocator.free = budget_free;
    b->allocator.allocator_data = b;
    b->used = 0;
    b->limit = limit;
    b->exhausted = 0;
}
