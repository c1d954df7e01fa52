/* This file implements the depacketizer registry: finding a codec's table by its MJR name,
 * and allocating and freeing a depacketizer's state. */
#include "transcode/depay.h"

#include <stdlib.h>
#include <strings.h>

#include "common/xalloc.h"

static const struct tc_depay_ops *const depay_all[] = {
    &tc_depay_vp8,  &tc_depay_vp9,  &tc_depay_h264,      &tc_depay_h265,
    &tc_depay_av1,  &tc_depay_opus, &tc_depay_multiopus, &tc_depay_pcmu,
    &tc_depay_pcma, &tc_depay_g722, &tc_depay_l16,       &tc_depay_l16_48,
};

const struct tc_depay_ops *tc_depay_find(const char *codec)
{
    if (!codec)
        return NULL;
    if (strcasecmp(codec, "g711") == 0) /* Janus's name for µ-law in old recordings */
        return &tc_depay_pcmu;
    for (size_t i = 0; i < sizeof(depay_all) / sizeof(depay_all[0]); i++)
        if (strcasecmp(depay_all[i]->codec, codec) == 0)
            return depay_all[i];
    return NULL;
}

struct tc_depay *tc_depay_new(const struct tc_depay_ops *ops)
{
    struct tc_depay *d = xcalloc(1, sizeof(*d));
    d->ops = ops;
    d->state = ops->state_size ? xcalloc(1, ops->state_size) : NULL;
    return d;
}

void tc_depay_free(struct tc_depay *d)
{
    if (!d)
        return;
    if (d->ops->release && d->state)
        d->ops->release(d->state);
    free(d->state);
    free(d);
}
