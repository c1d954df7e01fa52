/* Concurrency tests of the VideoRoom's media path against its control plane, through a real
 * gateway core (run under the TSan build by scripts/dev.sh check): a publisher's media thread
 * fans packets out while other threads subscribe, unsubscribe, switch, configure, pause and
 * start subscribers, and while the publisher unpublishes and publishes again. The packets go
 * through the subscriber streams' rewriting (there is no media layer to send them); what must
 * hold is the locking (no race, no use after free) and a consistent end state. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "tests/gateway/test_videoroom.h"

#define ROOM 41
#define SUBSCRIBERS 3
#define ROUNDS 200

struct race {
    struct vfix f;
    uint64_t pub_s, pub_h, pub_id, other_id;
    atomic_bool stop;
    atomic_uint sent;
};

static uint64_t publisher(struct race *x, const char *display, uint64_t *s, uint64_t *h)
{
    *s = vsession(&x->f);
    *h = vattach(&x->f, *s);
    json_t *r = vasync(&x->f, *s, *h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%d,"
                       "\"display\":\"%s\"}",
                       ROOM, display);
    uint64_t id = (uint64_t)vint(r, "id");
    json_decref(r);
    json_decref(vasync_jsep(&x->f, *s, *h, VR_OFFER, "{\"request\":\"publish\"}"));
    struct gw_handle *gh = vhandle(&x->f, *s, *h);
    vr_plugin()->setup_media(x->f.v, gh, NULL);
    gw_handle_unref(gh);
    return id;
}

/* The publisher's media thread: audio and video packets through the plugin's hook. */
static void *media(void *arg)
{
    struct race *x = arg;
    struct gw_handle *gh = vhandle(&x->f, x->pub_s, x->pub_h);
    const struct gw_plugin_reg *reg = gw_handle_plugin(gh);
    uint8_t pkt[300] = {0x80};
    for (uint16_t seq = 0; !atomic_load(&x->stop); seq++) {
        for (int video = 0; video < 2; video++) {
            pkt[1] = video ? 96 : 111;
            pkt[2] = (uint8_t)(seq >> 8);
            pkt[3] = (uint8_t)seq;
            pkt[7] = (uint8_t)seq;
            pkt[11] = video ? 0x11 : 0x22;
            pkt[12] = 0x90; /* a VP8 descriptor: S, X */
            pkt[14] = (uint8_t)(seq & 0x7f);
            if (!gw_handle_hook_enter(gh))
                break;
            reg->plugin->incoming_rtp(reg->ctx, gh, gw_handle_plugin_state(gh), video, video, pkt,
                                      sizeof pkt);
            gw_handle_hook_leave(gh);
            atomic_fetch_add(&x->sent, 1);
        }
    }
    gw_handle_unref(gh);
    return NULL;
}

struct sub_job {
    struct race *x;
    uint64_t s, h;
};

/* One subscriber's control thread: every verb that attaches or detaches streams, in a loop. */
static void *subscriber(void *arg)
{
    struct sub_job *j = arg;
    struct race *x = j->x;
    char body[256];
    for (int r = 0; r < ROUNDS; r++) {
        const char *verb = r % 2 ? "unsubscribe" : "subscribe";
        snprintf(body, sizeof body, "{\"request\":\"%s\",\"streams\":[{\"feed\":%" PRIu64 "}]}",
                 verb, x->other_id);
        json_t *jsep = NULL;
        json_decref(vasync_offer(&x->f, j->s, j->h, body, &jsep));
        json_decref(jsep);
        snprintf(body, sizeof body,
                 "{\"request\":\"switch\",\"streams\":[{\"feed\":%" PRIu64
                 ",\"mid\":\"1\",\"sub_mid\":\"1\"}]}",
                 r % 3 ? x->pub_id : x->other_id);
        json_decref(vasync_offer(&x->f, j->s, j->h, body, &jsep));
        json_decref(jsep);
        json_decref(vasync(&x->f, j->s, j->h,
                           "{\"request\":\"configure\",\"streams\":[{\"mid\":\"1\",\"send\":%s,"
                           "\"substream\":%d}]}",
                           r % 4 ? "true" : "false", r % 3));
        json_decref(vasync(&x->f, j->s, j->h, "{\"request\":\"%s\"}", r % 5 ? "start" : "pause"));
    }
    return NULL;
}

static json_t *handle_info(struct race *x, uint64_t s, uint64_t h)
{
    struct gw_handle *gh = vhandle(&x->f, s, h);
    const struct gw_plugin_reg *reg = gw_handle_plugin(gh);
    ASSERT(gw_handle_hook_enter(gh));
    json_t *info = reg->plugin->query_session(reg->ctx, gh, gw_handle_plugin_state(gh));
    gw_handle_hook_leave(gh);
    gw_handle_unref(gh);
    return info;
}

/* Subscriber streams attached to P's feed, as its handle_info counts them. */
static json_int_t subscribers_attached(struct race *x)
{
    json_t *info = handle_info(x, x->pub_s, x->pub_h);
    json_int_t n = 0;
    json_t *media_info = json_object_get(info, "media");
    for (size_t i = 0; i < json_array_size(media_info); i++)
        n += vint(json_array_get(media_info, i), "subscribers");
    json_decref(info);
    return n;
}

/* A subscriber's active streams; *only_p cleared when one is fed by another publisher. */
static json_int_t active_streams(struct race *x, struct sub_job *j, bool *only_p)
{
    json_t *info = handle_info(x, j->s, j->h);
    json_t *streams = json_object_get(info, "streams");
    json_int_t n = 0;
    for (size_t k = 0; k < json_array_size(streams); k++) {
        json_t *sst = json_array_get(streams, k);
        if (json_is_true(json_object_get(sst, "active"))) {
            *only_p = *only_p && (uint64_t)vint(sst, "feed_id") == x->pub_id;
            n++;
        }
    }
    json_decref(info);
    return n;
}

static void test_fanout_vs_control(void)
{
    struct race x = {0};
    vfix_init(&x.f);
    x.f.skip_notices = true; /* publishers/updated notices interleave with replies */
    uint64_t cs = vsession(&x.f), ch = vattach(&x.f, cs);
    json_decref(vsync(&x.f, cs, ch, "{\"request\":\"create\",\"room\":%d,\"publishers\":4}", ROOM));
    x.pub_id = publisher(&x, "P", &x.pub_s, &x.pub_h);
    uint64_t os, oh;
    x.other_id = publisher(&x, "O", &os, &oh);
    struct sub_job jobs[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        jobs[i] = (struct sub_job){.x = &x, .s = vsession(&x.f)};
        jobs[i].h = vattach(&x.f, jobs[i].s);
        json_t *jsep = NULL;
        char body[200];
        snprintf(body, sizeof body,
                 "{\"request\":\"join\",\"ptype\":\"subscriber\",\"room\":%d,\"streams\":"
                 "[{\"feed\":%" PRIu64 "}]}",
                 ROOM, x.pub_id);
        json_t *ev = vasync_offer(&x.f, jobs[i].s, jobs[i].h, body, &jsep);
        ASSERT_STREQ(json_string_value(json_object_get(ev, "videoroom")), "attached");
        json_decref(ev);
        json_decref(jsep);
        struct gw_handle *gh = vhandle(&x.f, jobs[i].s, jobs[i].h);
        vr_plugin()->setup_media(x.f.v, gh, NULL); /* forwarding on */
        gw_handle_unref(gh);
    }
    pthread_t mt, st[SUBSCRIBERS];
    ASSERT_EQ(pthread_create(&mt, NULL, media, &x), 0);
    for (int i = 0; i < SUBSCRIBERS; i++)
        ASSERT_EQ(pthread_create(&st[i], NULL, subscriber, &jobs[i]), 0);
    for (int i = 0; i < SUBSCRIBERS; i++)
        pthread_join(st[i], NULL);
    /* The other publisher leaves while packets flow: its subscribers' streams go inactive. */
    json_decref(vasync(&x.f, os, oh, "{\"request\":\"leave\"}"));
    atomic_store(&x.stop, true);
    pthread_join(mt, NULL);
    ASSERT_GT(atomic_load(&x.sent), 100);
    /* End state, once the leave's autoupdates are through: every active subscriber stream is
     * fed by P and attached to P's feed, nothing else. */
    json_int_t attached = -1, expected = -2;
    bool only_p = false;
    for (int t = 0; t < 300 && !(only_p && attached == expected); t++) {
        if (t)
            usleep(10000);
        attached = subscribers_attached(&x);
        expected = 0;
        only_p = true;
        for (int i = 0; i < SUBSCRIBERS; i++)
            expected += active_streams(&x, &jobs[i], &only_p);
    }
    ASSERT(only_p);
    ASSERT_EQ(attached, expected);
    ASSERT_GT(expected, 0);
    vfix_done(&x.f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fanout_vs_control", test_fanout_vs_control},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
