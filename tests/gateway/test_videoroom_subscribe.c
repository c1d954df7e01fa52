/* Tests of VideoRoom subscriptions through a real gateway core (no media layer: the plugin's own
 * offers are checked as SDP): join with several feeds in one PeerConnection, subscribe /
 * unsubscribe / update with a new offer each time (a removed stream stays as an inactive m-line
 * and a later subscription reuses it), switch (same m-line, another feed), configure send and
 * layers, pause / start, and the autoupdate when a feed unpublishes (or none with
 * autoupdate:false). Event shapes are Janus 1.1.2's. */
#include <inttypes.h>
#include <string.h>

#include "gateway/sdp/sdp.h"
#include "tests/gateway/test_videoroom.h"

#define ROOM 31

struct pub {
    uint64_t s, h, id;
};

static struct pub live_publisher(struct vfix *f, const char *display)
{
    struct pub p = {.s = vsession(f)};
    p.h = vattach(f, p.s);
    json_t *r = vasync(f, p.s, p.h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%d,"
                       "\"display\":\"%s\"}",
                       ROOM, display);
    p.id = (uint64_t)vint(r, "id");
    json_decref(r);
    json_decref(vasync_jsep(f, p.s, p.h, VR_OFFER, "{\"request\":\"publish\"}"));
    struct gw_handle *gh = vhandle(f, p.s, p.h);
    vr_plugin()->setup_media(f->v, gh, NULL);
    gw_handle_unref(gh);
    return p;
}

/* The offer's m-lines: kinds ("a"/"v") and directions ("s" sendonly, "i" inactive), e.g.
 * "as vs ai vi"; also checks every m-line is in use (port 9: removed ones stay bundled). */
static void offer_lines(json_t *jsep, char *out, size_t size)
{
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    ASSERT(text != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(jsep, "type")), "offer");
    struct sdp *d = NULL;
    ASSERT_EQ(sdp_parse(text, strlen(text), &d, NULL, 0), 0);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d->n_media && o + 4 < size; i++) {
        const struct sdp_media *m = &d->media[i];
        ASSERT(m->port != 0);
        enum sdp_direction dir = sdp_media_direction(d, m);
        o += (size_t)snprintf(out + o, size - o, "%s%c%c", i ? " " : "",
                              m->type == SDP_MEDIA_AUDIO ? 'a' : 'v',
                              dir == SDP_DIR_SENDONLY   ? 's'
                              : dir == SDP_DIR_INACTIVE ? 'i'
                                                        : '?');
    }
    sdp_free(d);
}

/* A request answered with an event and an offer; *lines gets the offer's m-lines. */
static json_t *with_offer(struct vfix *f, uint64_t s, uint64_t h, const char *body, char *lines,
                          size_t size)
{
    json_t *jsep = NULL;
    json_t *ev = vasync_offer(f, s, h, body, &jsep);
    offer_lines(jsep, lines, size);
    json_decref(jsep);
    return ev;
}

/* The feed ids of the event's streams, "-" for inactive ones: "A A B B -". */
static void stream_feeds(json_t *ev, uint64_t a, char *out, size_t size)
{
    json_t *streams = json_object_get(ev, "streams");
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(streams) && o + 3 < size; i++) {
        json_t *st = json_array_get(streams, i);
        const char *who = !json_is_true(json_object_get(st, "active")) ? "-"
                          : (uint64_t)vint(st, "feed_id") == a         ? "A"
                                                                       : "B";
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? " " : "", who);
    }
}

static void test_multistream_renegotiation(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t cs = vsession(&f), ch = vattach(&f, cs);
    json_decref(vsync(&f, cs, ch, "{\"request\":\"create\",\"room\":%d}", ROOM));
    struct pub a = live_publisher(&f, "A"), b = live_publisher(&f, "B");
    uint64_t s = vsession(&f), h = vattach(&f, s);
    char lines[64], feeds[64], body[256];
    /* Two feeds in one PeerConnection: four m-lines, each sendonly. */
    snprintf(body, sizeof body,
             "{\"request\":\"join\",\"ptype\":\"subscriber\",\"room\":%d,\"streams\":"
             "[{\"feed\":%" PRIu64 "},{\"feed\":%" PRIu64 ",\"mid\":\"1\"}]}",
             ROOM, a.id, b.id);
    json_t *ev = with_offer(&f, s, h, body, lines, sizeof lines);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "videoroom")), "attached");
    stream_feeds(ev, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A A B");
    ASSERT_STREQ(lines, "as vs vs");
    json_decref(ev);
    ASSERT_JSON(vasync(&f, s, h, "{\"request\":\"start\"}"),
                "{\"videoroom\":\"event\",\"room\":%d,\"started\":\"ok\"}", ROOM);
    /* unsubscribe by feed: its m-line stays, inactive, and keeps its place. */
    snprintf(body, sizeof body,
             "{\"request\":\"unsubscribe\",\"streams\":[{\"feed\":%" PRIu64 "}]}", b.id);
    ev = with_offer(&f, s, h, body, lines, sizeof lines);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "videoroom")), "updated");
    stream_feeds(ev, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A A -");
    ASSERT_STREQ(lines, "as vs vi");
    json_decref(ev);
    /* subscribe: B's video reuses the inactive video m-line, B's audio is a new one. */
    snprintf(body, sizeof body, "{\"request\":\"subscribe\",\"streams\":[{\"feed\":%" PRIu64 "}]}",
             b.id);
    ev = with_offer(&f, s, h, body, lines, sizeof lines);
    stream_feeds(ev, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A A B B");
    ASSERT_STREQ(lines, "as vs vs as");
    json_decref(ev);
    /* update: both lists in one renegotiation (by sub_mid). */
    snprintf(body, sizeof body,
             "{\"request\":\"update\",\"unsubscribe\":[{\"sub_mid\":\"0\"}],\"subscribe\":"
             "[{\"feed\":%" PRIu64 ",\"mid\":\"0\"}]}",
             a.id);
    ev = with_offer(&f, s, h, body, lines, sizeof lines);
    stream_feeds(ev, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A A B B");
    json_decref(ev);
    /* switch: m-line 1 (video of A) now carries B's video, no renegotiation. */
    snprintf(body, sizeof body,
             "{\"request\":\"switch\",\"streams\":[{\"feed\":%" PRIu64
             ",\"mid\":\"1\",\"sub_mid\":\"1\"}]}",
             b.id);
    json_t *jsep = NULL;
    ev = vasync_offer(&f, s, h, body, &jsep);
    ASSERT(jsep == NULL);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "switched")), "ok");
    ASSERT_EQ(vint(ev, "changes"), 1);
    stream_feeds(ev, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A B B B");
    json_decref(ev);
    snprintf(body, sizeof body,
             "{\"request\":\"switch\",\"streams\":[{\"feed\":%" PRIu64
             ",\"mid\":\"0\",\"sub_mid\":\"1\"}]}",
             b.id);
    ASSERT_VR_ERROR(vasync(&f, s, h, "%s", body), 430, "Can't switch: codec or media type differ");
    /* configure: send off for one stream, layers accepted; pause. */
    ASSERT_JSON(vasync(&f, s, h,
                       "{\"request\":\"configure\",\"streams\":[{\"mid\":\"1\",\"send\":false,"
                       "\"substream\":0,\"temporal\":1}]}"),
                "{\"videoroom\":\"event\",\"room\":%d,\"configured\":\"ok\"}", ROOM);
    ASSERT_JSON(vasync(&f, s, h, "{\"request\":\"pause\"}"),
                "{\"videoroom\":\"event\",\"room\":%d,\"paused\":\"ok\"}", ROOM);
    /* A publisher leaving: its streams go inactive in an `updated` event with a new offer. */
    json_decref(vasync(&f, b.s, b.h, "{\"request\":\"unpublish\"}"));
    json_t *upd = NULL;
    for (int i = 0; i < 10 && !upd; i++) {
        json_t *e = vevent(&f, s, 2000);
        ASSERT(e != NULL);
        json_t *data = json_object_get(json_object_get(e, "plugindata"), "data");
        if (strcmp(json_string_value(json_object_get(data, "videoroom")), "updated") == 0) {
            offer_lines(json_object_get(e, "jsep"), lines, sizeof lines);
            upd = json_incref(data);
        }
        json_decref(e);
    }
    ASSERT(upd != NULL);
    stream_feeds(upd, a.id, feeds, sizeof feeds);
    ASSERT_STREQ(feeds, "A - - -");
    ASSERT_STREQ(lines, "as vi vi ai");
    json_decref(upd);
    ASSERT_JSON(vasync(&f, s, h, "{\"request\":\"leave\"}"),
                "{\"videoroom\":\"event\",\"room\":%d,\"left\":\"ok\"}", ROOM);
    vfix_done(&f);
}

static void test_no_autoupdate(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t cs = vsession(&f), ch = vattach(&f, cs);
    json_decref(vsync(&f, cs, ch, "{\"request\":\"create\",\"room\":%d}", ROOM));
    struct pub a = live_publisher(&f, "A");
    uint64_t s = vsession(&f), h = vattach(&f, s);
    char lines[64], body[256];
    snprintf(body, sizeof body,
             "{\"request\":\"join\",\"ptype\":\"subscriber\",\"room\":%d,\"autoupdate\":false,"
             "\"streams\":[{\"feed\":%" PRIu64 "}]}",
             ROOM, a.id);
    json_decref(with_offer(&f, s, h, body, lines, sizeof lines));
    ASSERT_STREQ(lines, "as vs");
    json_decref(vasync(&f, a.s, a.h, "{\"request\":\"unpublish\"}"));
    vno_event(&f, s);
    /* The streams are inactive all the same. */
    json_t *jsep = NULL;
    snprintf(body, sizeof body,
             "{\"request\":\"unsubscribe\",\"streams\":[{\"feed\":%" PRIu64 "}]}", a.id);
    json_t *ev = vasync_offer(&f, s, h, body, &jsep);
    offer_lines(jsep, lines, sizeof lines);
    ASSERT_STREQ(lines, "ai vi");
    json_decref(jsep);
    json_decref(ev);
    vfix_done(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"multistream_renegotiation", test_multistream_renegotiation},
        {"no_autoupdate", test_no_autoupdate},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
