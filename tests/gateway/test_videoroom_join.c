/* Tests of the VideoRoom participants through a real gateway core: join as a publisher (the
 * `joined` reply, attendees and `joining` notices, ids, 425/436, pin, ACL, signed tokens), join as
 * a subscriber (feeds must be live: 428, 437), leave, kick, moderate, destroy with participants,
 * a handle going away, the publisher slot (432/434/435) with the media hooks, and the errors of
 * the media verbs before media (424, 423, 426). Expected events are Janus 1.1.2's. */
#include "tests/gateway/test_videoroom.h"
#include "gateway/videoroom/vr_internal.h"

struct peer {
    uint64_t s, h, id;
};

static struct peer join_pub(struct vfix *f, uint64_t room, const char *extra)
{
    struct peer p = {.s = vsession(f)};
    p.h = vattach(f, p.s);
    json_t *r =
        vasync(f, p.s, p.h, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64 "%s}",
               room, extra);
    const char *kind = json_string_value(json_object_get(r, "videoroom"));
    if (!kind || strcmp(kind, "joined") != 0)
        TEST_FAIL_("join failed: %s", json_dumps(r, 0));
    p.id = (uint64_t)vint(r, "id");
    json_decref(r);
    return p;
}

static void test_join_publishers(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":1234,\"description\":\"Demo\","
                      "\"notify_joining\":true,\"publishers\":1}"));
    struct peer a = {.s = vsession(&f)};
    a.h = vattach(&f, a.s);
    json_t *r = vasync(&f, a.s, a.h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":1234,\"id\":11,"
                       "\"display\":\"alice\"}");
    int64_t pvt = vint(r, "private_id");
    ASSERT_GT(pvt, 0);
    ASSERT_LE(pvt, UINT32_MAX);
    ASSERT_JSON(r,
                "{\"videoroom\":\"joined\",\"room\":1234,\"description\":\"Demo\",\"id\":11,"
                "\"private_id\":%" PRId64 ",\"publishers\":[],\"attendees\":[]}",
                pvt);
    /* More participants than the publishers limit may join: the limit is for publishing. */
    struct peer b = join_pub(&f, 1234, ",\"display\":\"bob\"");
    ASSERT_JSON(vnotice(&f, a.s, a.h),
                "{\"videoroom\":\"event\",\"room\":1234,\"joining\":{\"id\":%" PRIu64
                ",\"display\":\"bob\"}}",
                b.id);
    struct peer c = {.s = vsession(&f)};
    c.h = vattach(&f, c.s);
    ASSERT_VR_ERROR(
        vasync(&f, c.s, c.h,
               "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":1234,\"id\":11}"),
        436, "User ID 11 already exists");
    r = vasync(&f, c.s, c.h,
               "{\"request\":\"join\",\"ptype\":\"PUBLISHER\",\"room\":1234,\"id\":0}");
    c.id = (uint64_t)vint(r, "id");
    ASSERT_NE(c.id, 0);
    json_t *att = json_object_get(r, "attendees");
    ASSERT_EQ(json_array_size(att), 2);
    ASSERT_JSON(json_incref(json_array_get(att, 0)), "{\"id\":11,\"display\":\"alice\"}");
    json_decref(r);
    ASSERT_JSON(vnotice(&f, a.s, a.h),
                "{\"videoroom\":\"event\",\"room\":1234,\"joining\":{\"id\":%" PRIu64 "}}", c.id);
    json_decref(vnotice(&f, b.s, b.h));
    ASSERT_VR_ERROR(
        vasync(&f, c.s, c.h, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":1234}"), 425,
        "Already in as a publisher on this handle");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"listparticipants\",\"room\":1234}"),
                "{\"videoroom\":\"participants\",\"room\":1234,\"participants\":[{\"id\":11,"
                "\"display\":\"alice\",\"publisher\":false},{\"id\":%" PRIu64
                ",\"display\":\"bob\",\"publisher\":false},{\"id\":%" PRIu64
                ",\"publisher\":false}]}",
                b.id, c.id);
    struct gw_handle *gh = vhandle(&f, a.s, a.h);
    ASSERT_JSON(vr_plugin()->query_session(f.v, gh, NULL),
                "{\"type\":\"publisher\",\"room\":1234,\"id\":11,\"private_id\":%" PRId64
                ",\"display\":\"alice\",\"bitrate\":0,\"streams\":[],\"hangingup\":0,"
                "\"destroyed\":0}",
                pvt);
    gw_handle_unref(gh);
    /* Leaving: the others are told; the handle cannot come back. */
    ASSERT_JSON(vasync(&f, c.s, c.h, "{\"request\":\"leave\"}"),
                "{\"videoroom\":\"event\",\"room\":1234,\"leaving\":\"ok\"}");
    ASSERT_JSON(vnotice(&f, a.s, a.h),
                "{\"videoroom\":\"event\",\"room\":1234,\"leaving\":%" PRIu64 "}", c.id);
    json_decref(vnotice(&f, b.s, b.h));
    ASSERT_VR_ERROR(
        vasync(&f, c.s, c.h, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":1234}"), 425,
        "Not in a room (create a new handle)");
    ASSERT_VR_ERROR(vasync(&f, c.s, c.h, "{\"request\":\"configure\"}"), 426, "No such room");
    ASSERT_VR_ERROR(vasync(&f, c.s, c.h, "{\"request\":\"leave\"}"), 426, "No such room");
    /* A handle that goes away leaves its room. */
    json_decref(vcall(&f, b.s, b.h, vjson("{\"janus\":\"detach\",\"transaction\":\"d\"}"), NULL));
    ASSERT_JSON(vnotice(&f, a.s, a.h),
                "{\"videoroom\":\"event\",\"room\":1234,\"leaving\":%" PRIu64 "}", b.id);
    json_decref(vcall(
        &f, 0, 0,
        vjson("{\"janus\":\"destroy\",\"transaction\":\"d\",\"session_id\":%" PRIu64 "}", c.s),
        NULL));
    vno_event(&f, a.s);
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"listparticipants\",\"room\":1234}"),
                "{\"videoroom\":\"participants\",\"room\":1234,\"participants\":[{\"id\":11,"
                "\"display\":\"alice\",\"publisher\":false}]}");
    vfix_done(&f);
}

static bool token_ok(void *ctx, const char *token, const char *room)
{
    (*(int *)ctx)++;
    return token && strcmp(token, "good") == 0 && strcmp(room, "900") == 0;
}

static void test_join_errors(void)
{
    struct vfix f;
    int calls = 0;
    struct vr_config cfg = {.token_room_ok = token_ok, .token_ctx = &calls};
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":900,\"pin\":\"p\",\"allowed\":[\"tok\"],"
                      "\"signed_tokens\":true}"));
    uint64_t x = vsession(&f), xh = vattach(&f, x);
    const char *cases[][3] = {
        {"{\"request\":\"configure\"}", "424", "Invalid request on unconfigured participant"},
        {"{\"request\":\"start\"}", "424", "Invalid request on unconfigured participant"},
        {"{\"request\":\"join\",\"room\":900}", "429", "Missing mandatory element (ptype)"},
        {"{\"request\":\"join\",\"ptype\":\"publisher\"}", "429",
         "Missing mandatory element (room)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":5}", "430",
         "Invalid element type (ptype should be a string)"},
        {"{\"request\":\"join\",\"room\":901,\"ptype\":\"publisher\"}", "426",
         "No such room (901)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\"}", "433",
         "Unauthorized (wrong token)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\"}", "429",
         "Missing mandatory element (pin)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":5}",
         "430", "Invalid element type (pin should be a string)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":"
         "\"q\"}",
         "433", "Unauthorized (wrong pin)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"bogus\",\"token\":\"good\",\"pin\":\"p\"}",
         "430", "Invalid element (ptype)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":"
         "\"p\"}",
         "433", "Unauthorized (not in the allowed list)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":"
         "\"p\",\"display\":5}",
         "430", "Invalid element type (display should be a string)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":"
         "\"p\",\"id\":\"7\"}",
         "430", "Invalid element type (id should be a positive integer)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\",\"token\":\"good\",\"pin\":"
         "\"p\",\"descriptions\":[{\"mid\":\"0\"}]}",
         "429", "Missing mandatory element (description)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":\"good\",\"pin\":"
         "\"p\"}",
         "429", "Missing mandatory element (feed)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":\"good\",\"pin\":"
         "\"p\",\"streams\":5}",
         "430", "Invalid element type (streams should be an array)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":\"good\",\"pin\":"
         "\"p\",\"streams\":[{\"feed\":\"7\"}]}",
         "430", "Invalid element type (feed should be a positive integer)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":\"good\",\"pin\":"
         "\"p\",\"streams\":[{\"feed\":99}]}",
         "428", "No such feed (99)"},
        {"{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":\"good\",\"pin\":"
         "\"p\",\"feed\":99}",
         "428", "No such feed (99)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ASSERT_VR_ERROR(vasync(&f, x, xh, "%s", cases[i][0]), atoi(cases[i][1]), cases[i][2]);
    ASSERT_GT(calls, 0);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"allowed\",\"room\":900,\"action\":\"add\",\"allowed\":"
                      "[\"good\"]}"));
    struct peer y = join_pub(&f, 900, ",\"token\":\"good\",\"pin\":\"p\",\"id\":7");
    (void)y;
    /* A joined publisher (not live) is no feed yet. */
    ASSERT_VR_ERROR(vasync(&f, x, xh,
                           "{\"request\":\"join\",\"room\":900,\"ptype\":\"subscriber\",\"token\":"
                           "\"good\",\"pin\":\"p\",\"streams\":[{\"feed\":7}]}"),
                    428, "No such feed (7)");
    vfix_done(&f);
}

static void test_kick_moderate(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":900,\"secret\":\"s\"}"));
    struct peer y = join_pub(&f, 900, ",\"id\":7");
    struct peer z = join_pub(&f, 900, ",\"id\":8");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"secret\":\"s\"}"), 429,
                    "Missing mandatory element (id)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"id\":7}"), 429,
                    "Missing mandatory element (secret)");
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"secret\":\"s\",\"id\":\"7\"}"), 430,
        "Invalid element type (id should be a positive integer)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"kick\",\"id\":8,\"secret\":\"s\"}"), 426,
                    "No such room (0)");
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"secret\":\"s\",\"id\":5}"), 428,
        "No such user 5 in room 900");
    /* moderate: a participant without streams has no such mid. */
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"moderate\",\"room\":900,\"secret\":\"s\",\"id\":7}"), 429,
        "Missing mandatory element (mid)");
    ASSERT_VR_ERROR(vsync(&f, s, h,
                          "{\"request\":\"moderate\",\"room\":900,\"secret\":\"s\",\"id\":7,"
                          "\"mid\":\"0\"}"),
                    429, "Missing mandatory element (mute)");
    ASSERT_VR_ERROR(vsync(&f, s, h,
                          "{\"request\":\"moderate\",\"room\":900,\"secret\":\"s\",\"id\":5,"
                          "\"mid\":\"0\",\"mute\":true}"),
                    428, "No such user 5 in room 900");
    ASSERT_VR_ERROR(vsync(&f, s, h,
                          "{\"request\":\"moderate\",\"room\":900,\"secret\":\"s\",\"id\":7,"
                          "\"mid\":\"0\",\"mute\":true}"),
                    428, "No such stream 0");
    struct gw_handle *yh = vhandle(&f, y.s, y.h);
    struct vr_stream st = {.mindex = 0, .mid = "0", .type = "audio", .codec = "opus"};
    ASSERT_EQ(vr_publisher_set_streams(f.v, yh, &st, 1), 0);
    ASSERT_JSON(vsync(&f, s, h,
                      "{\"request\":\"moderate\",\"room\":900,\"secret\":\"s\",\"id\":7,\"mid\":"
                      "\"0\",\"mute\":true}"),
                "{\"videoroom\":\"success\"}");
    const char *moderated = "{\"videoroom\":\"event\",\"room\":900,\"id\":7,\"mid\":\"0\","
                            "\"moderation\":\"muted\"}";
    ASSERT_JSON(vnotice(&f, y.s, y.h), "%s", moderated);
    ASSERT_JSON(vnotice(&f, z.s, z.h), "%s", moderated);
    /* kick: the kicked one is told, then the others. */
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"secret\":\"s\",\"id\":7}"),
                "{\"videoroom\":\"success\"}");
    ASSERT_JSON(vnotice(&f, y.s, y.h),
                "{\"videoroom\":\"event\",\"room\":900,\"leaving\":\"ok\",\"reason\":\"kicked\"}");
    ASSERT_JSON(vnotice(&f, z.s, z.h), "{\"videoroom\":\"event\",\"room\":900,\"kicked\":7}");
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"kick\",\"room\":900,\"secret\":\"s\",\"id\":7}"), 428,
        "No such user 7 in room 900");
    ASSERT_VR_ERROR(vasync(&f, y.s, y.h, "{\"request\":\"configure\"}"), 426, "No such room");
    ASSERT_VR_ERROR(
        vasync(&f, y.s, y.h, "{\"request\":\"join\",\"room\":900,\"ptype\":\"publisher\"}"), 425,
        "Not in a room (create a new handle)");
    ASSERT_EQ(vr_publisher_set_streams(f.v, yh, &st, 1), 0); /* still the handle's publisher */
    gw_handle_unref(yh);
    /* destroy: every participant is told. */
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":900,\"secret\":\"s\"}"),
                "{\"videoroom\":\"destroyed\",\"room\":900,\"permanent\":false}");
    ASSERT_JSON(vnotice(&f, z.s, z.h), "{\"videoroom\":\"destroyed\",\"room\":900}");
    vno_event(&f, y.s);
    ASSERT_VR_ERROR(vasync(&f, z.s, z.h, "{\"request\":\"configure\"}"), 426, "No such room");
    vfix_done(&f);
}

static void media_up(struct vfix *f, struct peer *p)
{
    struct gw_handle *gh = vhandle(f, p->s, p->h);
    vr_plugin()->setup_media(f->v, gh, NULL);
    gw_handle_unref(gh);
}

/* The streams of VR_OFFER as the plugin answers them. */
#define VR_STREAMS                                                                                 \
    "[{\"type\":\"audio\",\"mindex\":0,\"mid\":\"0\",\"codec\":\"opus\"},{\"type\":\"video\","     \
    "\"mindex\":1,\"mid\":\"1\",\"codec\":\"vp8\"}]"
#define VR_CONFIGURED_5                                                                            \
    "{\"videoroom\":\"event\",\"room\":5,\"configured\":\"ok\",\"audio_codec\":\"opus\","          \
    "\"video_codec\":\"vp8\",\"streams\":" VR_STREAMS "}"
#define VR_PUB_A                                                                                   \
    "{\"id\":1,\"display\":\"A\",\"audio_codec\":\"opus\",\"video_codec\":\"vp8\","                \
    "\"streams\":" VR_STREAMS "}"

static void test_publishing(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":5,\"publishers\":1,\"audiocodec\":"
                      "\"opus\"}"));
    struct peer a = join_pub(&f, 5, ",\"id\":1,\"display\":\"a\"");
    struct peer b = join_pub(&f, 5, ",\"id\":2");
    ASSERT_VR_ERROR(vasync(&f, a.s, a.h, "{\"request\":\"unpublish\"}"), 435,
                    "Can't unpublish, not published");
    ASSERT_VR_ERROR(vasync(&f, a.s, a.h, "{\"request\":\"start\"}"), 423,
                    "Unknown request 'start'");
    ASSERT_VR_ERROR(vasync(&f, a.s, a.h, "{\"request\":\"subscribe\"}"), 423,
                    "Unknown request 'subscribe'");
    ASSERT_VR_ERROR(vasync(&f, a.s, a.h, "{\"request\":\"publish\",\"bitrate\":\"x\"}"), 430,
                    "Invalid element type (bitrate should be a positive integer)");
    ASSERT_VR_ERROR(
        vasync_jsep(&f, a.s, a.h, VR_OFFER, "{\"request\":\"publish\",\"audiocodec\":\"pcmu\"}"),
        430, "Audio codec unavailable in this room");
    /* Without an offer, configure and publish only change settings. */
    ASSERT_JSON(
        vasync(&f, a.s, a.h, "{\"request\":\"publish\",\"bitrate\":1000,\"display\":\"A\"}"),
        "{\"videoroom\":\"event\",\"room\":5,\"configured\":\"ok\"}");
    ASSERT_JSON(vnotice(&f, b.s, b.h), "{\"videoroom\":\"event\",\"id\":1,\"display\":\"A\"}");
    /* The offer takes the only slot; a second publisher is refused, exactly as the limit. */
    ASSERT_JSON(vasync_jsep(&f, a.s, a.h, VR_OFFER, "{\"request\":\"publish\"}"), VR_CONFIGURED_5);
    ASSERT_VR_ERROR(vasync_jsep(&f, a.s, a.h, VR_OFFER, "{\"request\":\"publish\"}"), 434,
                    "Can't publish, already published");
    ASSERT_VR_ERROR(vasync_jsep(&f, b.s, b.h, VR_OFFER, "{\"request\":\"publish\"}"), 432,
                    "Maximum number of publishers (1) already reached");
    ASSERT_VR_ERROR(vasync_jsep(&f, b.s, b.h, "{\"type\":\"answer\",\"sdp\":\"v=0\"}",
                                "{\"request\":\"configure\"}"),
                    431, "Only subscribers send answers");
    /* Live: the others hear of the new publisher; a subscription needs streams (437). */
    media_up(&f, &a);
    ASSERT_JSON(vnotice(&f, b.s, b.h),
                "{\"videoroom\":\"event\",\"room\":5,\"publishers\":[" VR_PUB_A "]}");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"listparticipants\",\"room\":5}"),
                "{\"videoroom\":\"participants\",\"room\":5,\"participants\":[{\"id\":1,"
                "\"display\":\"A\",\"publisher\":true},{\"id\":2,\"publisher\":false}]}");
    struct vr_room_state st;
    ASSERT_EQ(vr_room_state_get(f.v, 5, &st), 0);
    ASSERT_EQ(st.participants, 2);
    ASSERT_EQ(st.publishing, 1);
    uint64_t x = vsession(&f), xh = vattach(&f, x);
    ASSERT_VR_ERROR(vasync(&f, x, xh,
                           "{\"request\":\"join\",\"room\":5,\"ptype\":\"subscriber\",\"streams\":"
                           "[{\"feed\":1,\"mid\":\"3\"}]}"),
                    428, "No such mid '3' in feed (1)");
    ASSERT_VR_ERROR(vasync(&f, x, xh,
                           "{\"request\":\"join\",\"room\":5,\"ptype\":\"subscriber\",\"streams\":"
                           "[{\"feed\":1,\"substream\":3}]}"),
                    430, "Invalid value (substream/spatial_layer should be 0, 1 or 2)");
    /* A subscription to both streams of the live feed: attached, with our offer. */
    json_t *jsep = NULL;
    json_t *att = vasync_offer(
        &f, x, xh, "{\"request\":\"join\",\"room\":5,\"ptype\":\"subscriber\",\"feed\":1}", &jsep);
    ASSERT_JSON(att,
                "{\"videoroom\":\"attached\",\"room\":5,\"streams\":["
                "{\"type\":\"audio\",\"active\":true,\"mindex\":0,\"mid\":\"0\",\"ready\":false,"
                "\"send\":true,\"feed_id\":1,\"feed_display\":\"A\",\"feed_mid\":\"0\","
                "\"codec\":\"opus\"},{\"type\":\"video\",\"active\":true,\"mindex\":1,\"mid\":"
                "\"1\",\"ready\":false,\"send\":true,\"feed_id\":1,\"feed_display\":\"A\","
                "\"feed_mid\":\"1\",\"codec\":\"vp8\"}]}");
    const char *offer = json_string_value(json_object_get(jsep, "sdp"));
    ASSERT(offer && strstr(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111") &&
           strstr(offer, "a=rtpmap:96 VP8/90000") && strstr(offer, "a=sendonly"));
    json_decref(jsep);
    /* A newcomer sees live publishers with their streams. */
    struct peer c = {.s = vsession(&f)};
    c.h = vattach(&f, c.s);
    json_t *r =
        vasync(&f, c.s, c.h, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":5,\"id\":3}");
    ASSERT_JSON(json_incref(json_object_get(r, "publishers")), "[" VR_PUB_A "]");
    json_decref(r);
    /* Unpublish frees the slot; the others hear it. */
    ASSERT_JSON(vasync(&f, a.s, a.h, "{\"request\":\"unpublish\"}"),
                "{\"videoroom\":\"event\",\"room\":5,\"unpublished\":\"ok\"}");
    ASSERT_JSON(vnotice(&f, b.s, b.h), "{\"videoroom\":\"event\",\"room\":5,\"unpublished\":1}");
    ASSERT_JSON(vnotice(&f, c.s, c.h), "{\"videoroom\":\"event\",\"room\":5,\"unpublished\":1}");
    ASSERT_JSON(vasync_jsep(&f, b.s, b.h, VR_OFFER, "{\"request\":\"configure\"}"),
                VR_CONFIGURED_5);
    /* A core hangup releases it too (nobody was told: it never went live). */
    ASSERT_EQ(vr_room_state_get(f.v, 5, &st), 0);
    ASSERT_EQ(st.publishing, 1);
    json_decref(vcall(&f, b.s, b.h, vjson("{\"janus\":\"hangup\",\"transaction\":\"h\"}"), NULL));
    ASSERT_EQ(vr_room_state_get(f.v, 5, &st), 0);
    ASSERT_EQ(st.publishing, 0);
    ASSERT_JSON(vasync_jsep(&f, c.s, c.h, VR_OFFER, "{\"request\":\"joinandconfigure\"}"),
                "{\"videoroom\":\"event\",\"error_code\":425,\"error\":\"Already in as a "
                "publisher on this handle\"}");
    /* joinandconfigure refused for the limit stays joined, as Janus. */
    ASSERT_JSON(vasync_jsep(&f, c.s, c.h, VR_OFFER, "{\"request\":\"publish\"}"), VR_CONFIGURED_5);
    struct peer d = {.s = vsession(&f)};
    d.h = vattach(&f, d.s);
    ASSERT_VR_ERROR(vasync_jsep(&f, d.s, d.h, VR_OFFER,
                                "{\"request\":\"joinandconfigure\",\"ptype\":\"publisher\","
                                "\"room\":5,\"id\":4}"),
                    432, "Maximum number of publishers (1) already reached");
    ASSERT_EQ(vr_room_state_get(f.v, 5, &st), 0);
    ASSERT_EQ(st.participants, 4);
    vfix_done(&f);
}

static void test_leave_live(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":6}"));
    struct peer a = join_pub(&f, 6, ",\"id\":1");
    struct peer b = join_pub(&f, 6, ",\"id\":2");
    json_decref(vasync_jsep(&f, a.s, a.h, VR_OFFER, "{\"request\":\"publish\"}"));
    media_up(&f, &a);
    json_decref(vnotice(&f, b.s, b.h));
    /* A live publisher leaving: unpublished, then leaving. */
    ASSERT_JSON(vasync(&f, a.s, a.h, "{\"request\":\"leave\"}"),
                "{\"videoroom\":\"event\",\"room\":6,\"leaving\":\"ok\"}");
    ASSERT_JSON(vnotice(&f, b.s, b.h), "{\"videoroom\":\"event\",\"room\":6,\"unpublished\":1}");
    ASSERT_JSON(vnotice(&f, b.s, b.h), "{\"videoroom\":\"event\",\"room\":6,\"leaving\":1}");
    vno_event(&f, b.s);
    vfix_done(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"join_publishers", test_join_publishers}, {"join_errors", test_join_errors},
        {"kick_moderate", test_kick_moderate},     {"publishing", test_publishing},
        {"leave_live", test_leave_live},           {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
