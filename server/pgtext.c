#include "pgtext.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

char *pgtext_array(char *const *v, size_t n)
{
    struct jsonw w;
    const char *json;
    char *out = NULL;

    /* A JSON array of strings differs from a text[] literal only in its
     * brackets, and both escape " and \ with a backslash. */
    jsonw_init(&w);
    jsonw_strs(&w, v, n);
    json = jsonw_finish(&w);
    if (json != NULL && (out = strdup(json)) != NULL) {
        out[0] = '{';
        out[strlen(out) - 1] = '}';
    }
    jsonw_free(&w);
    return out;
}
