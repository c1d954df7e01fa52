/* This file implements the VideoRoom recording tests: the plugin over a real archive (MJR engine
 * and SQLite catalog in a temporary folder), publishers' packets fed through the plugin's media
 * hook as the media layer would. A recording room records every published stream from the
 * answer on, handle_info names the files, lock_record keeps it on without the secret,
 * enable_recording turns it on and off live, a kick and an unpublish close the files, and the
 * catalog ends with every recording closed, hashed and belonging to its participant. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "mjr/mjr.h"
#include "tests/archive/archive_util.h"
#include "tests/gateway/test_videoroom.h"
#include "tests/test.h"

#define PACKETS 50

struct rfix {
    char dir[512];
    struct catalog *c;
    struct mjr_engine *e;
    struct archive *a;
    struct vfix f;
};

static void rfix_init_all(struct rfix *x, const char *tag, bool record_all)
{
    memset(x, 0, sizeof *x);
    x->c = util_catalog_open(x->dir, sizeof x->dir, tag);
    struct mjr_engine_config ecfg = {.buffered = true};
    ASSERT_EQ(mjr_engine_create(&ecfg, &x->e), 0);
    struct archive_config acfg = {.data_dir = x->dir, .engine = x->e, .catalog = x->c};
    ASSERT_EQ(archive_create(&acfg, &x->a), 0);
    struct vr_config cfg = {.archive = x->a, .record_all = record_all};
    vfix_init_cfg(&x->f, &cfg);
}

static void rfix_init(struct rfix *x, const char *tag)
{
    rfix_init_all(x, tag, false);
}

/* Ends the plugin (closing what is open), then the archive, and lets the catalog apply it. */
static void rfix_finish(struct rfix *x)
{
    vfix_done(&x->f);
    archive_destroy(x->a);
    x->a = NULL;
    catalog_flush(x->c);
}

static void rfix_done(struct rfix *x)
{
    mjr_engine_destroy(x->e);
    catalog_close(x->c);
    util_rm_tree(x->dir);
}

struct pub {
    uint64_t s, h, id;
    uint16_t seq;
};

static struct pub publish(struct rfix *x, uint64_t room, const char *display)
{
    struct pub p = {.s = vsession(&x->f)};
    p.h = vattach(&x->f, p.s);
    json_t *r = vasync(&x->f, p.s, p.h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64
                       ",\"display\":\"%s\"}",
                       room, display);
    p.id = (uint64_t)vint(r, "id");
    json_decref(r);
    json_t *jsep = NULL;
    json_t *ev = vasync_text(&x->f, p.s, p.h, VR_OFFER, "{\"request\":\"publish\"}", &jsep);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "configured")), "ok");
    ASSERT_STREQ(json_string_value(json_object_get(jsep, "type")), "answer");
    json_decref(ev);
    json_decref(jsep);
    return p;
}

/* Feeds `n` audio and `n` video packets to the plugin as the publisher's media layer would;
 * the video ones are VP8 keyframes (`key`) or inter frames. */
static void feed_frames(struct rfix *x, struct pub *p, int n, bool key)
{
    struct gw_handle *gh = vhandle(&x->f, p->s, p->h);
    const struct gw_plugin_reg *reg = gw_handle_plugin(gh);
    for (int i = 0; i < n; i++, p->seq++) {
        uint8_t pkt[200];
        for (int video = 0; video < 2; video++) {
            size_t len =
                util_rtp(pkt, video ? 96 : 111, p->seq, (uint32_t)p->seq * (video ? 3000 : 960),
                         video ? 0x1111 : 0x2222, 100, (uint8_t)i);
            if (video) { /* VP8 descriptor: S, partition 0; payload header: P bit */
                pkt[12] = 0x10;
                pkt[13] = key ? 0x00 : 0x01;
            }
            ASSERT(gw_handle_hook_enter(gh));
            reg->plugin->incoming_rtp(reg->ctx, gh, gw_handle_plugin_state(gh), video, video, pkt,
                                      len);
            gw_handle_hook_leave(gh);
        }
    }
    gw_handle_unref(gh);
}

static void feed(struct rfix *x, struct pub *p, int n)
{
    feed_frames(x, p, n, true);
}

/* handle_info's media part: how many streams record, and the first file (copied). */
static int recording(struct rfix *x, struct pub *p, char *file, size_t size)
{
    struct gw_handle *gh = vhandle(&x->f, p->s, p->h);
    const struct gw_plugin_reg *reg = gw_handle_plugin(gh);
    ASSERT(gw_handle_hook_enter(gh));
    json_t *info = reg->plugin->query_session(reg->ctx, gh, gw_handle_plugin_state(gh));
    gw_handle_hook_leave(gh);
    gw_handle_unref(gh);
    int n = 0;
    json_t *media = json_object_get(info, "media");
    for (size_t i = 0; i < json_array_size(media); i++) {
        json_t *m = json_array_get(media, i);
        if (json_is_true(json_object_get(m, "recording"))) {
            ASSERT(json_string_value(json_object_get(m, "file")) != NULL);
            if (n == 0 && file)
                snprintf(file, size, "%s", json_string_value(json_object_get(m, "file")));
            n++;
        }
    }
    json_decref(info);
    return n;
}

/* Every recording of the room: closed, hashed, frames written; returns how many. */
static size_t check_catalog(struct rfix *x, const char *room, uint64_t participant)
{
    json_t *res = util_recordings(x->c, room);
    json_t *list = json_object_get(res, "recordings");
    char pid[32];
    snprintf(pid, sizeof pid, "%" PRIu64, participant);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *rec = json_array_get(list, i);
        ASSERT_STREQ(util_str(rec, "state"), "closed");
        ASSERT_STREQ(util_str(rec, "participant"), pid);
        ASSERT_GT(util_int(rec, "frames"), 0);
        ASSERT_EQ(util_int(rec, "dropped"), 0);
        util_check_hash(x->dir, rec, util_str(rec, "path"));
    }
    size_t n = json_array_size(list);
    json_decref(res);
    return n;
}

/* Recordings of the room marked closed in the catalog, waiting up to `ms` for two. */
static size_t closed_within(struct rfix *x, const char *room, int ms)
{
    size_t closed = 0;
    for (int t = 0; t <= ms && closed < 2; t += 10) {
        catalog_flush(x->c);
        json_t *res = util_recordings(x->c, room);
        json_t *list = json_object_get(res, "recordings");
        closed = 0;
        for (size_t i = 0; i < json_array_size(list); i++)
            closed += strcmp(util_str(json_array_get(list, i), "state"), "closed") == 0;
        json_decref(res);
        if (closed < 2)
            usleep(10000);
    }
    return closed;
}

static void test_record_room(void)
{
    struct rfix x;
    rfix_init(&x, "vr-rec");
    uint64_t s = vsession(&x.f), h = vattach(&x.f, s);
    json_decref(vsync(&x.f, s, h,
                      "{\"request\":\"create\",\"room\":7,\"record\":true,\"lock_record\":true,"
                      "\"secret\":\"s\"}"));
    struct pub a = publish(&x, 7, "alice");
    char file[512] = "";
    ASSERT_EQ(recording(&x, &a, file, sizeof file), 2);
    ASSERT(strstr(file, "recordings/7/videoroom-7-user-") != NULL);
    feed(&x, &a, PACKETS);
    /* lock_record: turning it off needs the secret (a wrong or missing one is ignored). */
    json_decref(vasync(&x.f, a.s, a.h, "{\"request\":\"configure\",\"record\":false}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    json_decref(
        vasync(&x.f, a.s, a.h, "{\"request\":\"configure\",\"record\":false,\"secret\":\"x\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    /* With the secret the publisher's own switch stops it (as Janus), and starts it again in
     * new files; unpublish stops it too. */
    json_decref(
        vasync(&x.f, a.s, a.h, "{\"request\":\"configure\",\"record\":false,\"secret\":\"s\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    feed(&x, &a, PACKETS); /* not recorded */
    json_decref(
        vasync(&x.f, a.s, a.h, "{\"request\":\"configure\",\"record\":true,\"secret\":\"s\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    feed_frames(&x, &a, 10, false); /* the new video file waits for a keyframe: audio only */
    feed(&x, &a, PACKETS);
    json_decref(vasync(&x.f, a.s, a.h, "{\"request\":\"unpublish\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    rfix_finish(&x);
    ASSERT_EQ(check_catalog(&x, "7", a.id), 4);
    json_t *res = util_recordings(x.c, "7");
    int64_t frames[2][2] = {{0}}; /* [audio|video][first|second file] */
    json_t *list = json_object_get(res, "recordings");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *r = json_array_get(list, i);
        int video = strcmp(util_str(r, "kind"), "video") == 0;
        int64_t n = util_int(r, "frames");
        if (frames[video][0] == 0 && n != PACKETS + 10)
            frames[video][0] = n;
        else
            frames[video][1] = n;
    }
    json_decref(res);
    ASSERT_EQ(frames[0][0], PACKETS);
    ASSERT_EQ(frames[0][1], PACKETS + 10);
    ASSERT_EQ(frames[1][0], PACKETS);
    ASSERT_EQ(frames[1][1], PACKETS);
    rfix_done(&x);
}

static void test_enable_recording_live(void)
{
    struct rfix x;
    rfix_init(&x, "vr-enable");
    uint64_t s = vsession(&x.f), h = vattach(&x.f, s);
    json_decref(vsync(&x.f, s, h, "{\"request\":\"create\",\"room\":8,\"secret\":\"s\"}"));
    struct pub a = publish(&x, 8, "bob");
    feed(&x, &a, PACKETS);
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    ASSERT_VR_ERROR(
        vsync(&x.f, s, h, "{\"request\":\"enable_recording\",\"room\":8,\"record\":true}"), 429,
        "Missing mandatory element (secret)");
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    json_decref(vsync(&x.f, s, h,
                      "{\"request\":\"enable_recording\",\"room\":8,\"record\":true,"
                      "\"secret\":\"s\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    feed(&x, &a, PACKETS);
    json_decref(vsync(&x.f, s, h,
                      "{\"request\":\"enable_recording\",\"room\":8,\"record\":false,"
                      "\"secret\":\"s\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    feed(&x, &a, PACKETS); /* not recorded */
    rfix_finish(&x);
    ASSERT_EQ(check_catalog(&x, "8", a.id), 2);
    json_t *res = util_recordings(x.c, "8");
    json_t *list = json_object_get(res, "recordings");
    for (size_t i = 0; i < json_array_size(list); i++)
        ASSERT_EQ(util_int(json_array_get(list, i), "frames"), PACKETS);
    json_decref(res);
    rfix_done(&x);
}

static void test_kick_closes(void)
{
    struct rfix x;
    rfix_init(&x, "vr-kick");
    uint64_t s = vsession(&x.f), h = vattach(&x.f, s);
    json_decref(
        vsync(&x.f, s, h, "{\"request\":\"create\",\"room\":9,\"record\":true,\"secret\":\"s\"}"));
    struct pub a = publish(&x, 9, "carol");
    feed(&x, &a, PACKETS);
    json_decref(vsync(
        &x.f, s, h, "{\"request\":\"kick\",\"room\":9,\"secret\":\"s\",\"id\":%" PRIu64 "}", a.id));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 0);
    /* Closed by the kick itself, before anything else ends: the catalog has them finished
     * while the plugin still runs. */
    ASSERT_EQ(closed_within(&x, "9", 5000), 2);
    rfix_finish(&x);
    ASSERT_EQ(check_catalog(&x, "9", a.id), 2);
    struct catalog_filter cf = {.room = "9"};
    json_t *parts = NULL;
    ASSERT_EQ(catalog_participants_query(x.c, &cf, &parts), 0);
    json_t *p0 = json_array_get(json_object_get(parts, "participants"), 0);
    ASSERT_STREQ(util_str(p0, "display"), "carol");
    ASSERT(json_is_integer(json_object_get(p0, "left_at")));
    json_decref(parts);
    rfix_done(&x);
}

/* Compliance mode: a room created with record:false records anyway, and neither the
 * publisher nor enable_recording can stop it. */
static void test_record_all(void)
{
    struct rfix x;
    rfix_init_all(&x, "vr-all", true);
    uint64_t s = vsession(&x.f), h = vattach(&x.f, s);
    json_decref(vsync(&x.f, s, h,
                      "{\"request\":\"create\",\"room\":10,\"record\":false,\"secret\":\"s\"}"));
    struct pub a = publish(&x, 10, "dave");
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    feed(&x, &a, PACKETS);
    json_decref(
        vasync(&x.f, a.s, a.h, "{\"request\":\"configure\",\"record\":false,\"secret\":\"s\"}"));
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    ASSERT_VR_ERROR(vsync(&x.f, s, h,
                          "{\"request\":\"enable_recording\",\"room\":10,\"record\":false,"
                          "\"secret\":\"s\"}"),
                    433, "Unauthorized (recording can't be disabled here)");
    ASSERT_EQ(recording(&x, &a, NULL, 0), 2);
    feed(&x, &a, PACKETS);
    json_decref(vasync(&x.f, a.s, a.h, "{\"request\":\"leave\"}"));
    rfix_finish(&x);
    ASSERT_EQ(check_catalog(&x, "10", a.id), 2);
    json_t *res = util_recordings(x.c, "10");
    json_t *list = json_object_get(res, "recordings");
    for (size_t i = 0; i < json_array_size(list); i++)
        ASSERT_EQ(util_int(json_array_get(list, i), "frames"), 2 * PACKETS);
    json_decref(res);
    rfix_done(&x);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"record_room", test_record_room},
        {"enable_recording_live", test_enable_recording_live},
        {"kick_closes", test_kick_closes},
        {"record_all", test_record_all},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
