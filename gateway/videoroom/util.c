/* This file implements the VideoRoom plugin's small shared helpers: error replies, the
 * Janus-style parameter checks with their exact texts, secret comparison, random ids, and the
 * outbox that carries events built under a lock out to the gateway once the lock is released. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

int vr_fail(struct vr_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

json_t *vr_err_json(const struct vr_err *e)
{
    return json_pack("{s:s, s:i, s:s}", "videoroom", "event", "error_code", e->code, "error",
                     e->text);
}

int vr_params_check(const json_t *obj, const struct vr_param *p, size_t n, struct vr_err *e)
{
    e->code = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_is_object(obj) ? json_object_get(obj, p[i].name) : NULL;
        if (!v) {
            if (p[i].required)
                return vr_fail(e, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (%s)",
                               p[i].name);
            continue;
        }
        if (!gw_json_type_ok(v, p[i].type))
            return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element type (%s should be %s)",
                           p[i].name, gw_json_type_name(p[i].type));
    }
    return 0;
}

bool vr_str_equal(const char *given, const char *expected)
{
    if (!given || !expected)
        return false;
    size_t glen = strlen(given), elen = strlen(expected);
    unsigned char diff = glen != elen;
    for (size_t i = 0; i < elen; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= g ^ (unsigned char)expected[i];
    }
    return diff == 0;
}

int vr_secret_check(const char *secret, const json_t *obj, const char *member, struct vr_err *e)
{
    e->code = 0;
    if (!secret)
        return 0;
    const struct vr_param p[] = {{member, GW_JSON_STRING, true}};
    int err = VR_CHECK(obj, p, e);
    if (err)
        return err;
    if (!vr_str_equal(json_string_value(json_object_get(obj, member)), secret))
        return vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized (wrong %s)", member);
    return 0;
}

static void random_bytes(void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((uint8_t *)p + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
}

uint64_t vr_random_id(void)
{
    uint64_t v = 0;
    while (v == 0) {
        random_bytes(&v, sizeof v);
        v &= (UINT64_C(1) << 53) - 1;
    }
    return v;
}

uint32_t vr_random_u32(void)
{
    uint32_t v = 0;
    while (v == 0)
        random_bytes(&v, sizeof v);
    return v;
}

uint64_t vr_json_u64(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

void vr_outbox_add(struct vr_outbox *o, struct gw_handle *h, json_t *data)
{
    if (!h) { /* a remote publisher (remote.c) has no handle to tell */
        json_decref(data);
        return;
    }
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->items = xrealloc(o->items, o->cap * sizeof *o->items);
    }
    gw_handle_ref(h);
    o->items[o->n++] = (struct vr_out){h, data};
}

void vr_outbox_close(struct vr_outbox *o, struct gw_handle *h)
{
    if (!h) /* a remote publisher: no PeerConnection */
        return;
    if (o->nclose == o->capclose) {
        o->capclose = o->capclose ? o->capclose * 2 : 4;
        o->close = xrealloc(o->close, o->capclose * sizeof *o->close);
    }
    gw_handle_ref(h);
    o->close[o->nclose++] = h;
}

void vr_outbox_left(struct vr_outbox *o, struct vr_participant *p)
{
    if (o->nleft == o->capleft) {
        o->capleft = o->capleft ? o->capleft * 2 : 4;
        o->left = xrealloc(o->left, o->capleft * sizeof *o->left);
    }
    vr_participant_ref(p);
    o->left[o->nleft++] = p;
}

void vr_outbox_feed_gone(struct vr_outbox *o, struct vr_subscriber *sub)
{
    for (size_t i = 0; i < o->ngone; i++)
        if (o->gone[i] == sub)
            return;
    if (o->ngone == o->capgone) {
        o->capgone = o->capgone ? o->capgone * 2 : 4;
        o->gone = xrealloc(o->gone, o->capgone * sizeof *o->gone);
    }
    atomic_fetch_add(&sub->refs, 1);
    o->gone[o->ngone++] = sub;
}

void vr_outbox_flush(struct vr *v, struct vr_outbox *o)
{
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    for (size_t i = 0; i < o->n; i++) {
        if (cb)
            cb->push_event(o->items[i].h, NULL, o->items[i].data, NULL);
        else
            json_decref(o->items[i].data);
        gw_handle_unref(o->items[i].h);
    }
    for (size_t i = 0; i < o->nclose; i++) {
        if (cb)
            cb->close_pc(o->close[i]);
        gw_handle_unref(o->close[i]);
    }
    for (size_t i = 0; i < o->ngone; i++) {
        vr_sub_feed_gone(v, o->gone[i]);
        vr_subscriber_unref(o->gone[i]);
    }
    for (size_t i = 0; i < o->nleft; i++) {
        vr_rec_participant_left(v, o->left[i]);
        vr_participant_unref(o->left[i]);
    }
    free(o->items);
    free(o->close);
    free(o->gone);
    free(o->left);
    memset(o, 0, sizeof *o);
}
