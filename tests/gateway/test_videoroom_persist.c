/* Tests of the VideoRoom's permanent rooms and configured rooms: rooms created, edited and
 * destroyed with permanent:true survive a vr_destroy + vr_create on the same rooms file (same
 * settings), the file is a JSON array written 0600, a failed write answers permanent:false, rooms
 * come from the configuration (array and object forms, invalid ones skipped), and the rooms file
 * wins an id clash. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/gateway/test_videoroom.h"

struct tmp {
    char dir[64];
    char file[128];
};

static void tmp_init(struct tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/vr_persist_XXXXXX");
    ASSERT(mkdtemp(t->dir) != NULL);
    snprintf(t->file, sizeof t->file, "%s/rooms.json", t->dir);
}

static void tmp_done(struct tmp *t)
{
    unlink(t->file);
    char tmpfile[160];
    snprintf(tmpfile, sizeof tmpfile, "%s.tmp", t->file);
    unlink(tmpfile);
    ASSERT_EQ(rmdir(t->dir), 0);
}

static bool has_room(struct vfix *f, uint64_t room)
{
    json_t *d = vr_room_describe(f->v, room);
    json_decref(d);
    return d != NULL;
}

/* The room as `list` shows it, without the participant count. */
static json_t *settings_of(struct vfix *f, uint64_t room)
{
    json_t *d = vr_room_describe(f->v, room);
    ASSERT(d != NULL);
    json_object_del(d, "num_participants");
    return d;
}

static void test_permanent_survives(void)
{
    struct tmp t;
    tmp_init(&t);
    struct vr_config cfg = {.rooms_file = t.file};
    struct vfix f;
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    ASSERT_JSON(vsync(&f, s, h,
                      "{\"request\":\"create\",\"room\":10,\"permanent\":true,\"description\":"
                      "\"Ten\",\"secret\":\"sec\",\"pin\":\"pin\",\"publishers\":2,\"is_private\":"
                      "true,\"audiocodec\":\"opus,pcmu\",\"videocodec\":\"vp9\",\"record\":true,"
                      "\"rec_dir\":\"/r\",\"notify_joining\":true,\"opus_fec\":false,"
                      "\"audiolevel_event\":true,\"audio_level_average\":40,\"bitrate\":256000,"
                      "\"fir_freq\":10,\"require_pvtid\":true,\"lock_record\":true}"),
                "{\"videoroom\":\"created\",\"room\":10,\"permanent\":true}");
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":11,\"permanent\":true}"));
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":12}"));
    ASSERT_JSON(vsync(&f, s, h,
                      "{\"request\":\"edit\",\"room\":10,\"secret\":\"sec\",\"new_description\":"
                      "\"Ten bis\",\"permanent\":true}"),
                "{\"videoroom\":\"edited\",\"room\":10,\"permanent\":true}");
    json_t *before = settings_of(&f, 10);
    struct stat st;
    ASSERT_EQ(stat(t.file, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    json_error_t err;
    json_t *file = json_load_file(t.file, 0, &err);
    ASSERT(json_is_array(file));
    ASSERT_EQ(json_array_size(file), 2);
    ASSERT_EQ(vint(json_array_get(file, 0), "room"), 10);
    json_decref(file);
    vfix_done(&f);

    vfix_init_cfg(&f, &cfg);
    s = vsession(&f), h = vattach(&f, s);
    char *text = json_dumps(before, 0);
    ASSERT_JSON(settings_of(&f, 10), "%s", text);
    free(text);
    ASSERT(has_room(&f, 11));
    ASSERT(!has_room(&f, 12));
    ASSERT_VR_ERROR(vsync(&f, s, h, "{\"request\":\"edit\",\"room\":10,\"secret\":\"bad\"}"), 433,
                    "Unauthorized (wrong secret)");
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":11,\"permanent\":true}"),
                "{\"videoroom\":\"destroyed\",\"room\":11,\"permanent\":true}");
    vfix_done(&f);

    vfix_init_cfg(&f, &cfg);
    ASSERT(!has_room(&f, 11));
    json_decref(settings_of(&f, 10));
    vfix_done(&f);
    json_decref(before);
    tmp_done(&t);
}

static void test_write_failure(void)
{
    struct vr_config cfg = {.rooms_file = "/nonexistent-dir-vr/rooms.json"};
    struct vfix f;
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    /* As Janus: the room exists, but permanent says it was not saved. */
    ASSERT_JSON(vsync(&f, s, h, "{\"request\":\"create\",\"room\":3,\"permanent\":true}"),
                "{\"videoroom\":\"created\",\"room\":3,\"permanent\":false}");
    ASSERT(has_room(&f, 3));
    vfix_done(&f);
}

static void test_config_rooms(void)
{
    struct tmp t;
    tmp_init(&t);
    FILE *fp = fopen(t.file, "w");
    ASSERT(fp != NULL);
    fputs("[{\"room\":1,\"description\":\"from file\"},{\"room\":\"bad\"},{\"room\":77,"
          "\"publishers\":\"x\"}]",
          fp);
    fclose(fp);
    json_t *rooms = vjson("[{\"room\":1,\"description\":\"from config\"},{\"room\":2,\"pin\":"
                          "\"p\"},{\"description\":\"no id\"},5,{\"room\":3,\"audiocodec\":"
                          "\"nope\"}]");
    struct vr_config cfg = {.rooms_file = t.file, .rooms = rooms};
    struct vfix f;
    vfix_init_cfg(&f, &cfg);
    json_t *d = vr_room_describe(f.v, 1);
    ASSERT_STREQ(json_string_value(json_object_get(d, "description")), "from file");
    json_decref(d);
    d = vr_room_describe(f.v, 2);
    ASSERT(json_is_true(json_object_get(d, "pin_required")));
    json_decref(d);
    ASSERT(!has_room(&f, 3));
    ASSERT(!has_room(&f, 77));
    /* Rewriting the file keeps the entries it could not use. */
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":4,\"permanent\":true}"));
    json_error_t err;
    json_t *file = json_load_file(t.file, 0, &err);
    ASSERT_EQ(json_array_size(file), 3);
    json_decref(file);
    vfix_done(&f);
    json_decref(rooms);

    rooms = vjson("{\"room-20\":{\"description\":\"twenty\"},\"21\":{\"is_private\":true},"
                  "\"x\":{},\"room-0\":{}}");
    struct vr_config cfg2 = {.rooms = rooms};
    vfix_init_cfg(&f, &cfg2);
    d = vr_room_describe(f.v, 20);
    ASSERT_STREQ(json_string_value(json_object_get(d, "description")), "twenty");
    json_decref(d);
    d = vr_room_describe(f.v, 21);
    ASSERT(json_is_true(json_object_get(d, "is_private")));
    json_decref(d);
    vfix_done(&f);
    json_decref(rooms);

    /* A rooms file that is not a JSON array is an error. */
    fp = fopen(t.file, "w");
    fputs("{\"room\":1}", fp);
    fclose(fp);
    struct vr *v = NULL;
    ASSERT_EQ(vr_create(&(struct vr_config){.rooms_file = t.file}, &v), -EINVAL);
    fp = fopen(t.file, "w");
    fputs("[{", fp);
    fclose(fp);
    ASSERT_EQ(vr_create(&(struct vr_config){.rooms_file = t.file}, &v), -EINVAL);
    ASSERT_EQ(vr_create(NULL, &v), -EINVAL);
    json_t *bad = json_string("x");
    ASSERT_EQ(vr_create(&(struct vr_config){.rooms = bad}, &v), -EINVAL);
    json_decref(bad);
    vr_destroy(NULL);
    tmp_done(&t);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"permanent_survives", test_permanent_survives},
        {"write_failure", test_write_failure},
        {"config_rooms", test_config_rooms},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
