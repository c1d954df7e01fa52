/* fuzz_ice_candidate: arbitrary text through the ICE candidate parser (gateway/ice). Whatever
 * parses must format, and the formatted text must parse back to the same candidate. */
#include <stdlib.h>
#include <string.h>

#include "gateway/ice/ice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct ice_candidate *a, const struct ice_candidate *b)
{
    return strcmp(a->foundation, b->foundation) == 0 && a->component == b->component &&
           a->transport == b->transport && a->priority == b->priority && a->type == b->type &&
           a->tcptype == b->tcptype && a->has_related == b->has_related;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * ICE_CANDIDATE_MAX)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ice_candidate c, again;
    if (ice_candidate_parse(text, &c) == 0) {
        char out[ICE_CANDIDATE_MAX];
        int n = ice_candidate_format(&c, out, sizeof out);
        if (n <= 0 || ice_candidate_parse(out, &again) != 0 || !same(&c, &again))
            abort();
    }
    free(text);
    return 0;
}
