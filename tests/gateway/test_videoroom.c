/* Tests of the VideoRoom plugin's room requests through a real gateway core: create (every key
 * validated, random ids, 427, permanent without a rooms file), edit, destroy, exists, list with
 * private rooms and admin_key, allowed, enable_recording (and record_all), listforwarders, the
 * request errors (421..423, 429, 430), the Admin API path and handle_info. Expected replies are
 * Janus 1.1.2's, checked against a running Janus. */
#include "tests/gateway/test_videoroom.h"

static void test_request_errors(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    ASSERT_VR_ERROR(vsync(&f, s, h, "{}"), 429, "Missing mandatory element (request)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":5}"), 430,
                    "Invalid element type (request should be a string)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"nope\"}"), 423, "Unknown request 'nope'");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"list_remotes\"}"), 423,
                    "Unknown request 'list_remotes'");
    /* 421 and 422 cannot come through the core (it insists on an object body): call the hook. */
    struct gw_handle *gh = vhandle(&f, s, h);
    json_t *res = NULL;
    ASSERT_EQ(vr_plugin()->handle_message(f.v, gh, NULL, "t", NULL, NULL, &res), GW_PLUGIN_SYNC);
    ASSERT_VR_ERROR(res, 421, "No message??");
    json_t *arr = json_array();
    ASSERT_EQ(vr_plugin()->handle_message(f.v, gh, NULL, "t", arr, NULL, &res), GW_PLUGIN_SYNC);
    ASSERT_VR_ERROR(res, 422, "JSON error: not an object");
    json_decref(arr);
    gw_handle_unref(gh);
    vfix_done(&f);
}

static void test_create(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"create\",\"room\":1234}"),
                "{\"videoroom\":\"created\",\"room\":1234,\"permanent\":false}");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"room\":1234}"), 427,
                    "Room 1234 already exists");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"CREATE\",\"room\":\"x\"}"), 430,
                    "Invalid element type (room should be a positive integer)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"room\":-1}"), 430,
                    "Invalid element type (room should be a positive integer)");
    const char *bad[][2] = {
        {"\"publishers\":\"a\"", "Invalid element type (publishers should be a positive integer)"},
        {"\"publishers\":2.5", "Invalid element type (publishers should be a positive integer)"},
        {"\"is_private\":1", "Invalid element type (is_private should be a boolean)"},
        {"\"description\":5", "Invalid element type (description should be a string)"},
        {"\"permanent\":\"x\"", "Invalid element type (permanent should be a boolean)"},
        {"\"dummy_streams\":3", "Invalid element type (dummy_streams should be an array)"},
        {"\"bitrate\":-5", "Invalid element type (bitrate should be a positive integer)"},
        {"\"rec_dir\":5", "Invalid element type (rec_dir should be a string)"},
        {"\"signed_tokens\":null", "Invalid element type (signed_tokens should be a boolean)"},
        {"\"audiocodec\":\"foo\"", "Invalid element (audiocodec can only be or contain opus, "
                                   "isac32, isac16, pcmu, pcma or g722)"},
        {"\"audiocodec\":\"opus,,pcmu\"", "Invalid element (audiocodec can only be or contain "
                                          "opus, isac32, isac16, pcmu, pcma or g722)"},
        {"\"videocodec\":\"vp8,\"", "Invalid element (videocodec can only be or contain vp8, "
                                    "vp9, av1, h264 or h265)"},
        {"\"allowed\":[1]", "Invalid element in the allowed array (not a string)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"room\":77,%s}", bad[i][0]), 430,
                        bad[i][1]);
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"permanent\":true}"), 499,
                    "No configuration file, can't create permanent room");
    /* A missing or zero room id picks a random one below 2^53; the description follows it. */
    json_t *r = vsync(&f, s, h, "{\"request\":\"create\",\"room\":0,\"unknown_key\":1}");
    uint64_t id = (uint64_t)vint(r, "room");
    ASSERT_GT(id, 0);
    ASSERT_LT(id, INT64_C(1) << 53);
    json_decref(r);
    json_t *d = vr_room_describe(f.v, id);
    char want[64];
    snprintf(want, sizeof want, "Room %" PRIu64, id);
    ASSERT_STREQ(json_string_value(json_object_get(d, "description")), want);
    json_decref(d);
    ASSERT(vr_room_describe(f.v, 999) == NULL);
    vfix_done(&f);
}

static void test_create_settings(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(
        &f, s, h,
        "{\"request\":\"create\",\"room\":700,\"description\":\"Seven\",\"secret\":\"sec\","
        "\"pin\":\"\",\"bitrate\":100,\"publishers\":0,\"fir_freq\":70000,\"audiocodec\":"
        "\"OPUS,pcmu\",\"videocodec\":\"h264,vp9,av1,h265,vp8,vp9\",\"record\":true,\"rec_dir\":"
        "\"/tmp/x\",\"lock_record\":true,\"notify_joining\":true,\"audiolevel_event\":true,"
        "\"audio_active_packets\":0,\"audio_level_average\":300,\"bitrate_cap\":true,"
        "\"opus_dtx\":true,\"video_svc\":true,\"require_e2ee\":true,\"threads\":2}"));
    ASSERT_JSON(
        vr_room_describe(f.v, 700),
        "{\"room\":700,\"description\":\"Seven\",\"pin_required\":true,\"is_private\":false,"
        "\"max_publishers\":0,\"bitrate\":64000,\"bitrate_cap\":true,\"fir_freq\":4464,"
        "\"require_pvtid\":false,\"require_e2ee\":true,\"dummy_publisher\":false,"
        "\"notify_joining\":true,\"audiocodec\":\"opus,pcmu\",\"videocodec\":"
        "\"h264,vp9,av1,h265,vp8\",\"opus_fec\":true,\"opus_dtx\":true,\"record\":true,"
        "\"rec_dir\":\"/tmp/x\",\"lock_record\":true,\"num_participants\":0,"
        "\"audiolevel_ext\":true,\"audiolevel_event\":true,\"audio_active_packets\":100,"
        "\"audio_level_average\":300,\"videoorient_ext\":true,\"playoutdelay_ext\":true,"
        "\"transport_wide_cc_ext\":true}");
    /* FEC and DTX need Opus; SVC needs a VP9-only room; truncation as Janus's types. */
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":701,\"audiocodec\":\"pcma\",\"opus_fec\":"
                      "true,\"videocodec\":\"vp9\",\"video_svc\":true,\"publishers\":5000000000,"
                      "\"bitrate\":5000000000}"));
    ASSERT_JSON(vr_room_describe(f.v, 701),
                "{\"room\":701,\"description\":\"Room 701\",\"pin_required\":false,"
                "\"is_private\":false,\"max_publishers\":705032704,\"bitrate\":705032704,"
                "\"fir_freq\":0,\"require_pvtid\":false,\"require_e2ee\":false,"
                "\"dummy_publisher\":false,\"notify_joining\":false,\"audiocodec\":\"pcma\","
                "\"videocodec\":\"vp9\",\"video_svc\":true,\"record\":false,\"lock_record\":false,"
                "\"num_participants\":0,\"audiolevel_ext\":true,\"audiolevel_event\":false,"
                "\"videoorient_ext\":true,\"playoutdelay_ext\":true,"
                "\"transport_wide_cc_ext\":true}");
    struct vr_room_state st;
    ASSERT_EQ(vr_room_state_get(f.v, 700, &st), 0);
    ASSERT(st.record && st.lock_record);
    ASSERT_EQ(st.max_publishers, 0);
    ASSERT_EQ(vr_room_state_get(f.v, 702, &st), -ENOENT);
    /* An empty secret is a secret (Janus keeps it): edit then needs it. */
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":703,\"secret\":\"\"}"));
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":703}"), 429,
                    "Missing mandatory element (secret)");
    vfix_done(&f);
}

static void test_edit_destroy_exists(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":700,\"secret\":\"sec\",\"is_private\":"
                      "true}"));
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\"}"), 429,
                    "Missing mandatory element (room)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":799}"), 426,
                    "No such room (799)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":700,\"secret\":\"bad\"}"), 433,
                    "Unauthorized (wrong secret)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":700,\"secret\":5}"), 430,
                    "Invalid element type (secret should be a string)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":700,\"new_publishers\":\"x\"}"),
                    430, "Invalid element type (new_publishers should be a positive integer)");
    ASSERT_VR_ERROR(
        vsync(&f, s, h,
              "{\"request\":\"edit\",\"room\":700,\"secret\":\"sec\",\"permanent\":true}"),
        499, "No configuration file, can't edit room permanently");
    ASSERT_JSON(vsync(&f, s, h,
                      "{\"request\":\"edit\",\"room\":700,\"secret\":\"sec\",\"new_description\":"
                      "\"nd\",\"new_publishers\":1,\"new_bitrate\":10,\"new_pin\":\"\","
                      "\"new_secret\":\"s2\",\"new_is_private\":false,\"new_require_pvtid\":true,"
                      "\"new_fir_freq\":7,\"new_lock_record\":true,\"new_rec_dir\":\"/tmp/y\"}"),
                "{\"videoroom\":\"edited\",\"room\":700,\"permanent\":false}");
    json_t *d = vr_room_describe(f.v, 700);
    ASSERT_STREQ(json_string_value(json_object_get(d, "description")), "nd");
    ASSERT_EQ(vint(d, "max_publishers"), 1);
    ASSERT_EQ(vint(d, "bitrate"), 64000);
    ASSERT_EQ(vint(d, "fir_freq"), 7);
    ASSERT(json_is_false(json_object_get(d, "pin_required"))); /* an empty new_pin is ignored */
    ASSERT(json_is_true(json_object_get(d, "require_pvtid")));
    ASSERT(json_is_true(json_object_get(d, "lock_record")));
    ASSERT_STREQ(json_string_value(json_object_get(d, "rec_dir")), "/tmp/y");
    json_decref(d);
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"exists\",\"room\":700}"),
                "{\"videoroom\":\"success\",\"room\":700,\"exists\":true}");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"exists\",\"room\":\"700\"}"), 430,
                    "Invalid element type (room should be a positive integer)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":700,\"secret\":\"sec\"}"),
                    433, "Unauthorized (wrong secret)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":700,\"permanent\":1}"), 430,
                    "Invalid element type (permanent should be a boolean)");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":700,\"secret\":\"s2\"}"),
                "{\"videoroom\":\"destroyed\",\"room\":700,\"permanent\":false}");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":700,\"secret\":\"s2\"}"),
                    426, "No such room (700)");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"exists\",\"room\":700}"),
                "{\"videoroom\":\"success\",\"room\":700,\"exists\":false}");
    vfix_done(&f);
}

static size_t list_count(json_t *reply, uint64_t room)
{
    ASSERT_STREQ(json_string_value(json_object_get(reply, "videoroom")), "success");
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(reply, "list"), i, e) n += vint(e, "room") == (int64_t)room;
    json_decref(reply);
    return n;
}

static void test_list_admin_key(void)
{
    struct vfix f;
    struct vr_config cfg = {.admin_key = "ak"};
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"room\":5}"), 429,
                    "Missing mandatory element (admin_key)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"create\",\"room\":5,\"admin_key\":\"no\"}"),
                    433, "Unauthorized (wrong admin_key)");
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":5,\"admin_key\":\"ak\",\"is_private\":"
                      "true}"));
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":6,\"admin_key\":\"ak\"}"));
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\"}"), 5), 0);
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\"}"), 6), 1);
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":\"ak\"}"), 5), 1);
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":\"\"}"), 5), 0);
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":7}"), 5), 0);
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":\"bad\"}"), 433,
                    "Unauthorized (wrong admin_key)");
    /* The list is sorted by room id. */
    json_t *l = vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":\"ak\"}");
    json_t *list = json_object_get(l, "list");
    ASSERT_EQ(json_array_size(list), 2);
    ASSERT_EQ(vint(json_array_get(list, 0), "room"), 5);
    json_decref(l);
    vfix_done(&f);
    /* Without an admin_key private rooms are never listed. */
    vfix_init(&f);
    s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":5,\"is_private\":true}"));
    ASSERT_EQ(list_count(vsync(&f, s, h, "{\"request\":\"list\",\"admin_key\":\"x\"}"), 5), 0);
    vfix_done(&f);
}

static void test_allowed(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":800,\"secret\":\"sec\",\"allowed\":[\"a\","
                      "\"b\"]}"));
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":800}"), 429,
                    "Missing mandatory element (action)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":800,\"action\":5}"), 430,
                    "Invalid element type (action should be a string)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":800,\"action\":\"x\"}"), 430,
                    "Unsupported action 'x' (allowed)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":800,\"action\":\"add\"}"),
                    429, "Missing mandatory element (secret)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":801,\"action\":\"add\"}"),
                    426, "No such room (801)");
#define ALLOWED(body)                                                                              \
    vsync(&f, s, h, "{\"request\":\"allowed\",\"room\":800,\"secret\":\"sec\"," body "}")
    ASSERT_JSON(ALLOWED("\"action\":\"add\""),
                "{\"videoroom\":\"success\",\"room\":800,\"allowed\":[\"a\",\"b\"]}");
    ASSERT_VR_ERROR(ALLOWED("\"action\":\"add\",\"allowed\":[1]"), 430,
                    "Invalid element in the allowed array (not a string)");
    ASSERT_JSON(ALLOWED("\"action\":\"add\",\"allowed\":[\"c\",\"a\"]"),
                "{\"videoroom\":\"success\",\"room\":800,\"allowed\":[\"a\",\"b\",\"c\"]}");
    ASSERT_JSON(ALLOWED("\"action\":\"remove\",\"allowed\":[\"b\",\"zz\"]"),
                "{\"videoroom\":\"success\",\"room\":800,\"allowed\":[\"a\",\"c\"]}");
    ASSERT_JSON(ALLOWED("\"action\":\"DISABLE\""), "{\"videoroom\":\"success\",\"room\":800}");
    ASSERT_JSON(ALLOWED("\"action\":\"enable\",\"allowed\":[\"q\"]"),
                "{\"videoroom\":\"success\",\"room\":800,\"allowed\":[\"a\",\"c\"]}");
#undef ALLOWED
    /* The ACL is bounded (its lookups are linear). */
    json_t *big = json_pack("{s:s, s:i, s:[]}", "request", "create", "room", 801, "allowed");
    for (int i = 0; i <= 1024; i++) {
        char tok[16];
        snprintf(tok, sizeof tok, "t%d", i);
        json_array_append_new(json_object_get(big, "allowed"), json_string(tok));
    }
    json_t *res = NULL;
    ASSERT_EQ(vr_plugin()->handle_admin_message(f.v, big, &res), 0);
    ASSERT_VR_ERROR(res, 430, "Invalid element (at most 1024 tokens in the allowed array)");
    json_object_set_new(big, "request", json_string("allowed"));
    json_object_set_new(big, "room", json_integer(800));
    json_object_set_new(big, "secret", json_string("sec"));
    json_object_set_new(big, "action", json_string("add"));
    ASSERT_EQ(vr_plugin()->handle_admin_message(f.v, big, &res), 0);
    ASSERT_VR_ERROR(res, 430, "Invalid element (at most 1024 tokens in the allowed array)");
    json_decref(big);
    vfix_done(&f);
}

static void test_enable_recording_and_forwarders(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":9,\"secret\":\"sec\"}"));
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"enable_recording\",\"room\":9}"), 429,
                    "Missing mandatory element (record)");
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"enable_recording\",\"record\":true}"), 426,
                    "No such room (0)");
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"enable_recording\",\"room\":9,\"record\":true}"), 429,
        "Missing mandatory element (secret)");
    ASSERT_VR_ERROR(vsync(&f, s, h,
                          "{\"request\":\"enable_recording\",\"room\":9,\"record\":true,"
                          "\"secret\":\"x\"}"),
                    433, "Unauthorized (wrong secret)");
    ASSERT_JSON(vsync(&f, s, h,
                      "{\"request\":\"enable_recording\",\"room\":9,\"record\":true,\"secret\":"
                      "\"sec\"}"),
                "{\"videoroom\":\"success\",\"record\":true}");
    struct vr_room_state st;
    ASSERT_EQ(vr_room_state_get(f.v, 9, &st), 0);
    ASSERT(st.record);
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"listforwarders\",\"room\":9}"), 429,
                    "Missing mandatory element (secret)");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"listforwarders\",\"room\":9,\"secret\":\"sec\"}"),
                "{\"videoroom\":\"forwarders\",\"room\":9,\"publishers\":[]}");
    vfix_done(&f);
    /* record_all: rooms always record; turning it off is refused. */
    struct vr_config cfg = {.record_all = true};
    vfix_init_cfg(&f, &cfg);
    s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":9,\"record\":false}"));
    ASSERT_EQ(vr_room_state_get(f.v, 9, &st), 0);
    ASSERT(st.record);
    ASSERT_VR_ERROR(
        vsync(&f, s, h, "{\"request\":\"enable_recording\",\"room\":9,\"record\":false}"), 433,
        "Unauthorized (recording can't be disabled here)");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"enable_recording\",\"room\":9,\"record\":true}"),
                "{\"videoroom\":\"success\",\"record\":true}");
    vfix_done(&f);
}

static void test_admin_message(void)
{
    struct vfix f;
    vfix_init(&f);
    const struct gw_plugin *p = vr_plugin();
    ASSERT_STREQ(p->package, "janus.plugin.videoroom");
    json_t *res = NULL;
#define ADMIN(...)                                                                                 \
    do {                                                                                           \
        json_t *req_ = vjson(__VA_ARGS__);                                                         \
        ASSERT_EQ(p->handle_admin_message(f.v, req_, &res), 0);                                    \
        json_decref(req_);                                                                         \
    } while (0)
    ADMIN("{\"request\":\"create\",\"room\":42,\"description\":\"adm\"}");
    ASSERT_JSON(res, "{\"videoroom\":\"created\",\"room\":42,\"permanent\":false}");
    ADMIN("{\"request\":\"exists\",\"room\":42}");
    ASSERT_JSON(res, "{\"videoroom\":\"success\",\"room\":42,\"exists\":true}");
    ADMIN("{\"request\":\"listparticipants\",\"room\":42}");
    ASSERT_JSON(res, "{\"videoroom\":\"participants\",\"room\":42,\"participants\":[]}");
    ADMIN("{\"request\":\"list\"}");
    ASSERT_EQ(list_count(res, 42), 1);
    ADMIN("{\"request\":\"join\",\"room\":42}");
    ASSERT_VR_ERROR(res, 423, "Unknown request 'join'");
    ADMIN("{}");
    ASSERT_VR_ERROR(res, 429, "Missing mandatory element (request)");
    ADMIN("{\"request\":\"destroy\",\"room\":42}");
    ASSERT_JSON(res, "{\"videoroom\":\"destroyed\",\"room\":42,\"permanent\":false}");
#undef ADMIN
    vfix_done(&f);
}

static void test_info(void)
{
    struct vfix f;
    vfix_init(&f);
    json_t *r = vcall(&f, 0, 0, vjson("{\"janus\":\"info\",\"transaction\":\"i\"}"), NULL);
    json_t *p = json_object_get(json_object_get(r, "plugins"), "janus.plugin.videoroom");
    ASSERT(json_is_object(p));
    ASSERT_STREQ(json_string_value(json_object_get(p, "name")), "JANUS VideoRoom plugin");
    json_decref(r);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    struct gw_handle *gh = vhandle(&f, s, h);
    ASSERT_JSON(vr_plugin()->query_session(f.v, gh, NULL), "{\"hangingup\":0,\"destroyed\":0}");
    gw_handle_unref(gh);
    vfix_done(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"request_errors", test_request_errors},
        {"create", test_create},
        {"create_settings", test_create_settings},
        {"edit_destroy_exists", test_edit_destroy_exists},
        {"list_admin_key", test_list_admin_key},
        {"allowed", test_allowed},
        {"enable_recording_and_forwarders", test_enable_recording_and_forwarders},
        {"admin_message", test_admin_message},
        {"info", test_info},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
