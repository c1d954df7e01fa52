/* Tests catalog events and queries: a whole meeting posted as events, then every filter,
 * pagination and the JSON shapes; flush ordering; concurrent posters. */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "tests/catalog/catalog_util.h"
#include "tests/test.h"

#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)

struct fixture {
    char dir[64];
    char db[128];
    struct catalog *c;
};

static void setup(struct fixture *f, unsigned batch_max)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/vb-catalog-events-XXXXXX");
    ASSERT(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/catalog.db", f->dir);
    struct catalog_config cfg = {.db_path = f->db, .data_dir = f->dir, .batch_max = batch_max};
    char err[256];
    ASSERT_EQ(catalog_open(&cfg, &f->c, err, sizeof err), 0);
}

static void teardown(struct fixture *f)
{
    catalog_close(f->c);
    cat_rm_tree(f->dir);
}

static void post(struct catalog *c, struct catalog_event ev)
{
    ASSERT_EQ(catalog_post(c, &ev), 0);
}

static void join(struct catalog *c, const char *room, const char *who, const char *display,
                 int64_t at)
{
    post(c, (struct catalog_event){.kind = CATALOG_PARTICIPANT_JOINED,
                                   .at_us = at,
                                   .room = room,
                                   .participant = who,
                                   .display = display});
}

static void open_rec(struct catalog *c, const char *room, const char *who, const char *kind,
                     int mindex, const char *codec, const char *path, int64_t at)
{
    post(c, (struct catalog_event){.kind = CATALOG_RECORDING_OPENED,
                                   .at_us = at,
                                   .room = room,
                                   .participant = who,
                                   .kind_name = kind,
                                   .mindex = mindex,
                                   .codec = codec,
                                   .path = path});
}

static void end_rec(struct catalog *c, enum catalog_event_kind kind, const char *path,
                    uint64_t size, uint64_t n, const char *error, int64_t at)
{
    struct catalog_event ev = {.kind = kind,
                               .at_us = at,
                               .path = path,
                               .size = size,
                               .has_sha256 = size > 0,
                               .frames = n,
                               .dropped = n / 50,
                               .trimmed = n,
                               .error = error};
    memset(ev.sha256, 0xab, sizeof ev.sha256);
    post(c, ev);
}

/* Room 1234: Alice (twice: she leaves and rejoins), Bob and Carol; room 777: Zed. */
static void post_meeting(struct catalog *c)
{
    post(c, (struct catalog_event){.kind = CATALOG_ROOM_CREATED,
                                   .at_us = T0,
                                   .room = "1234",
                                   .room_description = "Weekly sync"});
    post(c, (struct catalog_event){.kind = CATALOG_ROOM_CREATED, .at_us = T0, .room = "777"});
    join(c, "1234", "1", "Alice Smith", T0 + 1 * SEC);
    join(c, "1234", "2", "Bob Jones", T0 + 3 * SEC);
    join(c, "1234", "3", "Carol", T0 + 4 * SEC);
    post(c, (struct catalog_event){.kind = CATALOG_TRACK_PUBLISHED,
                                   .at_us = T0 + 2 * SEC,
                                   .room = "1234",
                                   .participant = "1",
                                   .kind_name = "audio",
                                   .mindex = 0,
                                   .mid = "a0",
                                   .codec = "opus",
                                   .description = "mic"});
    open_rec(c, "1234", "1", "audio", 0, NULL, "r/1234/alice-audio.mjr", T0 + 2 * SEC);
    open_rec(c, "1234", "1", "video", 1, "vp8", "r/1234/alice-video.mjr", T0 + 2 * SEC);
    open_rec(c, "1234", "2", "audio", 0, "opus", "r/1234/bob-audio.mjr", T0 + 3 * SEC);
    open_rec(c, "1234", "2", "video", 1, "h264", "r/1234/bob-video.mjr", T0 + 3 * SEC);
    open_rec(c, "1234", "3", "audio", 0, "opus", "r/1234/carol-audio.mjr", T0 + 4 * SEC);
    end_rec(c, CATALOG_RECORDING_FAILED, "r/1234/alice-video.mjr", 0, 0, "disk full",
            T0 + 30 * SEC);
    end_rec(c, CATALOG_RECORDING_CLOSED, "r/1234/alice-audio.mjr", 1000, 50, NULL, T0 + 60 * SEC);
    post(c, (struct catalog_event){.kind = CATALOG_PARTICIPANT_LEFT,
                                   .at_us = T0 + 70 * SEC,
                                   .room = "1234",
                                   .participant = "1"});
    join(c, "1234", "1", "Alice S.", T0 + 80 * SEC);
    open_rec(c, "1234", "1", "audio", 0, "opus", "r/1234/alice-audio-2.mjr", T0 + 81 * SEC);
    end_rec(c, CATALOG_RECORDING_CLOSED, "r/1234/alice-audio-2.mjr", 500, 25, NULL, T0 + 90 * SEC);
    end_rec(c, CATALOG_RECORDING_CLOSED, "r/1234/bob-audio.mjr", 2000, 100, NULL, T0 + 100 * SEC);
    end_rec(c, CATALOG_RECORDING_RECOVERED, "r/1234/bob-video.mjr", 3000, 17, NULL, T0 + 200 * SEC);
    join(c, "777", "9", "Zed", T0 + 499 * SEC);
    open_rec(c, "777", "9", "audio", 0, "opus", "r/777/zed.mjr", T0 + 500 * SEC);
    end_rec(c, CATALOG_RECORDING_CLOSED, "r/777/zed.mjr", 10, 1, NULL, T0 + 600 * SEC);
    post(c, (struct catalog_event){
                .kind = CATALOG_ROOM_DESTROYED, .at_us = T0 + 700 * SEC, .room = "777"});
    catalog_flush(c);
}

static json_int_t total_of(json_t *o)
{
    return json_integer_value(json_object_get(o, "total"));
}

/* The total of a recordings query, after checking the page agrees with it. */
static json_int_t count_recordings(struct catalog *c, struct catalog_filter f)
{
    json_t *o = NULL;
    ASSERT_EQ(catalog_recordings_query(c, &f, &o), 0);
    json_int_t total = total_of(o);
    ASSERT_EQ(json_array_size(json_object_get(o, "recordings")), total < 50 ? total : 50);
    json_decref(o);
    return total;
}

static json_int_t rec_id(struct catalog *c, const char *path)
{
    json_t *o = NULL;
    struct catalog_filter f = {.limit = 1000};
    ASSERT_EQ(catalog_recordings_query(c, &f, &o), 0);
    size_t i;
    json_t *r;
    json_int_t id = -1;
    json_array_foreach(json_object_get(o, "recordings"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
            id = json_integer_value(json_object_get(r, "id"));
    }
    json_decref(o);
    ASSERT_GT(id, 0);
    return id;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ASSERT(json_is_integer(v));
    return json_integer_value(v);
}

static void check_rooms(struct catalog *c)
{
    json_t *o = NULL;
    ASSERT_EQ(catalog_rooms_query(c, NULL, &o), 0);
    ASSERT_EQ(total_of(o), 2);
    json_t *r = json_array_get(json_object_get(o, "rooms"), 0);
    ASSERT_STREQ(str(r, "room"), "1234");
    ASSERT_STREQ(str(r, "description"), "Weekly sync");
    ASSERT_EQ(num(r, "created_at"), T0);
    ASSERT(json_is_null(json_object_get(r, "destroyed_at")));
    ASSERT_EQ(num(r, "participants"), 4);
    ASSERT_EQ(num(r, "recordings"), 6);
    json_decref(o);
    ASSERT_EQ(catalog_room_get(c, "777", &o), 0);
    ASSERT_EQ(num(o, "destroyed_at"), T0 + 700 * SEC);
    ASSERT_EQ(num(o, "recordings"), 1);
    json_decref(o);
    ASSERT_EQ(catalog_room_get(c, "nope", &o), -ENOENT);
    struct catalog_filter f = {.display = "zed"};
    ASSERT_EQ(catalog_rooms_query(c, &f, &o), 0);
    ASSERT_EQ(total_of(o), 1);
    ASSERT_STREQ(str(json_array_get(json_object_get(o, "rooms"), 0), "room"), "777");
    json_decref(o);
}

static void check_participants(struct catalog *c)
{
    json_t *o = NULL;
    struct catalog_filter f = {.participant = "1"};
    ASSERT_EQ(catalog_participants_query(c, &f, &o), -EINVAL); /* room required */
    f.room = "1234";
    ASSERT_EQ(catalog_participants_query(c, &f, &o), 0);
    ASSERT_EQ(total_of(o), 2); /* two sessions of Alice */
    json_t *s1 = json_array_get(json_object_get(o, "participants"), 0);
    json_t *s2 = json_array_get(json_object_get(o, "participants"), 1);
    ASSERT_STREQ(str(s1, "display"), "Alice Smith");
    ASSERT_EQ(num(s1, "left_at"), T0 + 70 * SEC);
    ASSERT_STREQ(str(s2, "display"), "Alice S.");
    ASSERT(json_is_null(json_object_get(s2, "left_at")));
    json_t *tracks = json_object_get(s1, "tracks");
    ASSERT_EQ(json_array_size(tracks), 2);
    json_t *audio = json_array_get(tracks, 0);
    ASSERT_STREQ(str(audio, "kind"), "audio");
    ASSERT_STREQ(str(audio, "mid"), "a0");
    ASSERT_STREQ(str(audio, "description"), "mic");
    ASSERT_EQ(num(audio, "unpublished_at"), T0 + 70 * SEC); /* ended when she left */
    json_t *recs = json_object_get(audio, "recordings");
    ASSERT_EQ(json_array_size(recs), 1);
    ASSERT_STREQ(str(json_array_get(recs, 0), "path"), "r/1234/alice-audio.mjr");
    ASSERT_STREQ(str(json_array_get(recs, 0), "codec"), "opus"); /* from the track */
    json_decref(o);

    struct catalog_filter all = {.room = "1234"};
    ASSERT_EQ(catalog_participants_query(c, &all, &o), 0);
    ASSERT_EQ(total_of(o), 4);
    json_decref(o);
    struct catalog_filter disp = {.room = "1234", .display = "CAROL"};
    ASSERT_EQ(catalog_participants_query(c, &disp, &o), 0);
    ASSERT_EQ(total_of(o), 1);
    json_decref(o);
    struct catalog_filter during = {.room = "1234", .from_us = T0 + 75 * SEC};
    ASSERT_EQ(catalog_participants_query(c, &during, &o), 0);
    ASSERT_EQ(total_of(o), 3); /* Alice's first session had ended */
    json_decref(o);
}

static void check_recording_filters(struct catalog *c)
{
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){0}), 7);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.room = "1234"}), 6);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.room = "777"}), 1);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.room = "nope"}), 0);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.participant = "2"}), 2);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.room = "1234", .participant = "1"}), 3);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.display = "smith"}), 2);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.display = "ALICE"}), 3);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.codec = "vp8"}), 1);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.codec = "opus"}), 5);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.kind = "video"}), 2);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.state = "open"}), 1);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.state = "closed"}), 4);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.state = "failed"}), 1);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.state = "recovered"}), 1);
    ASSERT_EQ(
        count_recordings(
            c, (struct catalog_filter){.kind = "audio", .state = "closed", .participant = "1"}),
        2);
    /* Overlapping [65 s, 85 s): Bob's two (3-100, 3-200), Carol's open one, Alice's second. */
    struct catalog_filter win = {.from_us = T0 + 65 * SEC, .to_us = T0 + 85 * SEC};
    ASSERT_EQ(count_recordings(c, win), 4);
    win.room = "1234";
    ASSERT_EQ(count_recordings(c, win), 4);
    win.participant = "1";
    ASSERT_EQ(count_recordings(c, win), 1);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.from_us = T0 + 150 * SEC}), 3);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.to_us = T0 + 3 * SEC}), 2);
    ASSERT_EQ(count_recordings(c, (struct catalog_filter){.from_us = T0 + 601 * SEC}), 1);
    ASSERT_EQ(count_recordings(
                  c, (struct catalog_filter){.from_us = T0 + 60 * SEC, .to_us = T0 + 61 * SEC}),
              3); /* Alice's first audio closed at 60 s: not overlapping [60, 61) */
}

static void check_pagination(struct catalog *c)
{
    json_int_t seen[8];
    int n = 0;
    int64_t last_opened = 0;
    for (int64_t off = 0; off < 8; off += 2) {
        json_t *o = NULL;
        struct catalog_filter f = {.room = "1234", .limit = 2, .offset = off};
        ASSERT_EQ(catalog_recordings_query(c, &f, &o), 0);
        ASSERT_EQ(total_of(o), 6);
        ASSERT_EQ(num(o, "limit"), 2);
        ASSERT_EQ(num(o, "offset"), off);
        json_t *a = json_object_get(o, "recordings");
        ASSERT_EQ(json_array_size(a), off < 6 ? 2 : 0);
        size_t i;
        json_t *r;
        json_array_foreach(a, i, r)
        {
            for (int k = 0; k < n; k++)
                ASSERT_NE(seen[k], num(r, "id"));
            seen[n++] = num(r, "id");
            ASSERT_GE(num(r, "opened_at"), last_opened);
            last_opened = num(r, "opened_at");
        }
        json_decref(o);
    }
    ASSERT_EQ(n, 6);
    json_t *o = NULL;
    struct catalog_filter big = {.limit = 5000};
    ASSERT_EQ(catalog_recordings_query(c, &big, &o), 0);
    ASSERT_EQ(num(o, "limit"), 1000);
    json_decref(o);
    struct catalog_filter bad = {.limit = -1};
    ASSERT_EQ(catalog_recordings_query(c, &bad, &o), -EINVAL);
    bad = (struct catalog_filter){.offset = -5};
    ASSERT_EQ(catalog_recordings_query(c, &bad, &o), -EINVAL);
}

static void check_recording_rows(struct catalog *c)
{
    json_t *o = NULL;
    ASSERT_EQ(catalog_recording_get(c, rec_id(c, "r/1234/alice-audio.mjr"), &o), 0);
    ASSERT_STREQ(str(o, "room"), "1234");
    ASSERT_STREQ(str(o, "participant"), "1");
    ASSERT_STREQ(str(o, "display"), "Alice Smith");
    ASSERT_STREQ(str(o, "kind"), "audio");
    ASSERT_EQ(num(o, "mindex"), 0);
    ASSERT_STREQ(str(o, "state"), "closed");
    ASSERT_EQ(num(o, "size"), 1000);
    ASSERT_STREQ(str(o, "sha256"),
                 "abababababababababababababababababababababababababababababababab");
    ASSERT_EQ(num(o, "frames"), 50);
    ASSERT_EQ(num(o, "dropped"), 1);
    ASSERT_EQ(num(o, "opened_at"), T0 + 2 * SEC);
    ASSERT_EQ(num(o, "closed_at"), T0 + 60 * SEC);
    ASSERT(json_is_null(json_object_get(o, "error")));
    json_decref(o);
    ASSERT_EQ(catalog_recording_get(c, rec_id(c, "r/1234/alice-video.mjr"), &o), 0);
    ASSERT_STREQ(str(o, "state"), "failed");
    ASSERT_STREQ(str(o, "error"), "disk full");
    ASSERT_STREQ(str(o, "codec"), "vp8");
    ASSERT(json_is_null(json_object_get(o, "sha256")));
    json_decref(o);
    ASSERT_EQ(catalog_recording_get(c, rec_id(c, "r/1234/bob-video.mjr"), &o), 0);
    ASSERT_STREQ(str(o, "state"), "recovered");
    ASSERT_EQ(num(o, "trimmed"), 17);
    json_decref(o);
    ASSERT_EQ(catalog_recording_get(c, 999999, &o), -ENOENT);

    char path[64], tiny[8];
    json_int_t id = rec_id(c, "r/777/zed.mjr");
    ASSERT_EQ(catalog_recording_path(c, id, path, sizeof path), 0);
    ASSERT_STREQ(path, "r/777/zed.mjr");
    ASSERT_EQ(catalog_recording_path(c, id, tiny, sizeof tiny), -ENAMETOOLONG);
    ASSERT_EQ(catalog_recording_path(c, 999999, path, sizeof path), -ENOENT);

    char **paths = NULL;
    size_t n = 0;
    ASSERT_EQ(catalog_open_recordings(c, &paths, &n), 0);
    ASSERT_UEQ(n, 1);
    ASSERT_STREQ(paths[0], "r/1234/carol-audio.mjr");
    free(paths[0]);
    free(paths);
}

static void test_meeting(void)
{
    struct fixture f;
    setup(&f, 0);
    post_meeting(f.c);
    check_rooms(f.c);
    check_participants(f.c);
    check_recording_filters(f.c);
    check_pagination(f.c);
    check_recording_rows(f.c);
    teardown(&f);
}

static void test_invalid_events(void)
{
    struct fixture f;
    setup(&f, 0);
    struct catalog_event ev = {.kind = CATALOG_ROOM_CREATED};
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL); /* no room */
    ev = (struct catalog_event){.kind = CATALOG_PARTICIPANT_JOINED, .room = "1"};
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL); /* no participant */
    ev = (struct catalog_event){.kind = CATALOG_RECORDING_OPENED,
                                .room = "1",
                                .participant = "2",
                                .kind_name = "smell",
                                .path = "a.mjr"};
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL); /* no such track kind */
    ev.kind_name = "audio";
    ev.path = "../../etc/passwd";
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    ev.path = "/abs/a.mjr";
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    ev.path = "r//a.mjr";
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    ev.path = NULL;
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    ev = (struct catalog_event){.kind = CATALOG_RECORDING_CLOSED, .path = "x.mjr"};
    ev.size = UINT64_MAX;
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    ev = (struct catalog_event){.kind = 99, .path = "x.mjr"};
    ASSERT_EQ(catalog_post(f.c, &ev), -EINVAL);
    /* Closing a recording nobody opened is applied as a no-op, not a crash. */
    ev = (struct catalog_event){.kind = CATALOG_RECORDING_CLOSED, .path = "ghost.mjr"};
    ASSERT_EQ(catalog_post(f.c, &ev), 0);
    catalog_flush(f.c);
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){0}), 0);
    teardown(&f);
}

/* Each flush sees every event posted before it, in order, across many small batches. */
static void test_flush_ordering(void)
{
    struct fixture f;
    setup(&f, 7);
    char path[64];
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof path, "r/x/%04d.mjr", i);
        open_rec(f.c, "x", "p", "audio", 0, "opus", path, T0 + i);
        end_rec(f.c, CATALOG_RECORDING_CLOSED, path, 10, 1, NULL, T0 + i + 1);
        if (i % 50 == 0) {
            catalog_flush(f.c);
            ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.state = "closed"}), i + 1);
            ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.state = "open"}), 0);
        }
    }
    for (int i = 0; i < 1000; i++)
        join(f.c, "x", "p", i % 2 ? "odd" : "even", T0 + i); /* last one wins */
    catalog_flush(f.c);
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.state = "closed"}), 300);
    json_t *o = NULL;
    struct catalog_filter pf = {.room = "x"};
    ASSERT_EQ(catalog_participants_query(f.c, &pf, &o), 0);
    ASSERT_EQ(total_of(o), 1);
    ASSERT_STREQ(str(json_array_get(json_object_get(o, "participants"), 0), "display"), "odd");
    json_decref(o);
    teardown(&f);
}

struct poster {
    struct catalog *c;
    int id;
};

enum { POSTERS = 4, EVENTS_PER_POSTER = 5000 };

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    char who[16], path[64];
    snprintf(who, sizeof who, "p%d", p->id);
    for (int i = 0; i < EVENTS_PER_POSTER / 2; i++) {
        snprintf(path, sizeof path, "r/many/%d-%05d.mjr", p->id, i);
        open_rec(p->c, "many", who, i % 2 ? "video" : "audio", i % 2, "opus", path, T0 + i);
        end_rec(p->c, CATALOG_RECORDING_CLOSED, path, 100, 5, NULL, T0 + i + 10);
    }
    return NULL;
}

static void test_concurrent_posters(void)
{
    struct fixture f;
    setup(&f, 0);
    pthread_t th[POSTERS];
    struct poster ps[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        ps[i] = (struct poster){.c = f.c, .id = i};
        ASSERT_EQ(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
    }
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    catalog_flush(f.c);
    const int per = EVENTS_PER_POSTER / 2;
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){0}), POSTERS * per);
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.state = "closed"}), POSTERS * per);
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.participant = "p2"}), per);
    ASSERT_EQ(count_recordings(f.c, (struct catalog_filter){.participant = "p3", .kind = "video"}),
              per / 2);
    json_t *o = NULL;
    ASSERT_EQ(catalog_room_get(f.c, "many", &o), 0);
    ASSERT_EQ(num(o, "participants"), POSTERS);
    json_decref(o);
    teardown(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"meeting", test_meeting},
        {"invalid_events", test_invalid_events},
        {"flush_ordering", test_flush_ordering},
        {"concurrent_posters", test_concurrent_posters},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
