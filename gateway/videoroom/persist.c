/* This file implements the VideoRoom's permanent rooms: loading rooms from configuration objects
 * and from the rooms file, and rewriting that file when a request says `permanent: true`.
 *
 * DESIGN: the file is a JSON array of room objects with the keys of `create` (booleans and
 * numbers typed, every flag written out so that a reload gives the same room). Its content is
 * kept in memory (`v->perm`, id -> object, under perm_lock) and the whole file is rewritten on a
 * change: to "<file>.tmp", fsync, rename over the file, fsync of the folder, so a crash leaves
 * the old or the new file, never a torn one. Entries that do not make a valid room are kept in
 * the file untouched (logged at load) rather than silently dropped. The file may hold secrets:
 * it is created 0600. Disk work happens on the requesting thread, with no room lock held. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

int vr_room_load(struct vr *v, const json_t *obj, uint64_t id, const char *origin)
{
    static const struct vr_param room_param[] = {{"room", GW_JSON_UINT, false}};
    struct vr_err e = {0};
    if (!json_is_object(obj)) {
        vb_log_warn(v->log, "videoroom: %s: a room is not an object, skipped", origin);
        return VR_ERR_INVALID_ELEMENT;
    }
    if (vr_settings_check(obj, &e) || VR_CHECK(obj, room_param, &e))
        goto out_invalid;
    if (!id)
        id = vr_json_u64(obj, "room");
    if (!id) {
        vr_fail(&e, VR_ERR_MISSING_ELEMENT, "invalid ID 0");
        goto out_invalid;
    }
    struct vr_room_settings set;
    if (vr_settings_parse(v, obj, &set, &e))
        goto out_invalid;
    struct vr_room *r = vr_room_new(id, &set);
    const json_t *allowed = json_object_get(obj, "allowed");
    if (allowed) {
        for (size_t i = 0; i < json_array_size(allowed); i++)
            vr_room_allowed_add(r, json_string_value(json_array_get(allowed, i)));
        r->check_allowed = true;
    }
    int err = vr_rooms_insert(&v->rooms, r);
    vr_room_unref(r);
    if (err < 0) {
        vb_log_warn(v->log, "videoroom: %s: room %" PRIu64 " already exists, skipped", origin, id);
        return VR_ERR_ROOM_EXISTS;
    }
    return 0;
out_invalid:
    vb_log_warn(v->log, "videoroom: %s: room skipped: %s", origin, e.text);
    return e.code;
}

int vr_persist_load(struct vr *v)
{
    v->perm = json_object();
    if (!v->rooms_file)
        return 0;
    if (access(v->rooms_file, F_OK) != 0)
        return errno == ENOENT ? 0 : -errno;
    json_error_t jerr;
    json_t *all = json_load_file(v->rooms_file, JSON_REJECT_DUPLICATES, &jerr);
    if (!all || !json_is_array(all)) {
        vb_log_error(v->log, "videoroom: %s: not a JSON array of rooms (%s)", v->rooms_file,
                     all ? "not an array" : jerr.text);
        json_decref(all);
        return -EINVAL;
    }
    size_t i;
    json_t *room;
    json_array_foreach(all, i, room)
    {
        uint64_t id = vr_json_u64(room, "room");
        char key[32];
        snprintf(key, sizeof key, "%" PRIu64, id);
        if (id && json_is_object(room) && !json_object_get(v->perm, key))
            json_object_set(v->perm, key, room);
        vr_room_load(v, room, 0, v->rooms_file);
    }
    json_decref(all);
    return 0;
}

static int by_number(const void *a, const void *b)
{
    uint64_t x = strtoull(*(char *const *)a, NULL, 10), y = strtoull(*(char *const *)b, NULL, 10);
    return x < y ? -1 : x > y;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sync_folder(const char *file)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", file);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return err;
}

/* Rewrites the file from v->perm (perm_lock held). 0 or -errno. */
static int rewrite(struct vr *v)
{
    size_t n = json_object_size(v->perm), k = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    const char *key;
    json_t *room;
    json_object_foreach(v->perm, key, room) keys[k++] = key;
    qsort(keys, n, sizeof *keys, by_number);
    json_t *all = json_array();
    for (k = 0; k < n; k++)
        json_array_append(all, json_object_get(v->perm, keys[k]));
    free(keys);
    char *text = json_dumps(all, JSON_INDENT(2));
    json_decref(all);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", v->rooms_file) >= (int)sizeof tmp) {
        free(text);
        return -ENAMETOOLONG;
    }
    int err = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = -errno;
        goto out_free;
    }
    err = write_all(fd, text, strlen(text));
    if (!err)
        err = write_all(fd, "\n", 1);
    if (!err && fsync(fd) < 0)
        err = -errno;
    if (close(fd) < 0 && !err)
        err = -errno;
    if (!err && rename(tmp, v->rooms_file) < 0)
        err = -errno;
    if (err)
        unlink(tmp);
    else
        err = sync_folder(v->rooms_file);
out_free:
    free(text);
    if (err)
        vb_log_error(v->log, "videoroom: cannot write %s: %s", v->rooms_file, strerror(-err));
    return err;
}

bool vr_persist_put(struct vr *v, struct vr_room *r)
{
    if (!v->rooms_file)
        return false;
    pthread_mutex_lock(&r->lock);
    json_t *entry = vr_room_persist_json(r);
    uint64_t id = r->id;
    pthread_mutex_unlock(&r->lock);
    char key[32];
    snprintf(key, sizeof key, "%" PRIu64, id);
    pthread_mutex_lock(&v->perm_lock);
    json_object_set_new(v->perm, key, entry);
    bool ok = rewrite(v) == 0;
    pthread_mutex_unlock(&v->perm_lock);
    return ok;
}

bool vr_persist_remove(struct vr *v, uint64_t id)
{
    if (!v->rooms_file)
        return false;
    char key[32];
    snprintf(key, sizeof key, "%" PRIu64, id);
    pthread_mutex_lock(&v->perm_lock);
    json_object_del(v->perm, key);
    bool ok = rewrite(v) == 0;
    pthread_mutex_unlock(&v->perm_lock);
    return ok;
}
