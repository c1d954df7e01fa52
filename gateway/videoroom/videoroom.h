/* gateway/videoroom/videoroom.h — the VideoRoom plugin (`janus.plugin.videoroom`), compiled in.
 *
 * A `struct vr` is the plugin's context: the rooms (from the configuration, from the permanent
 * rooms file and created over the API), the per-handle sessions, and the worker threads that
 * answer the asynchronous requests (join, configure, leave, ...). It is given to the gateway core
 * as `{vr_plugin(), v}` in the plugin table. This part is the control plane: rooms,
 * participants, their requests, replies, events and error codes as Janus 1.1.2's VideoRoom;
 * the media part (SDP negotiation, relaying, forwarding, recording) plugs in later.
 *
 * Behaviour worth knowing (details in docs/ and the .c files):
 * - The publishers limit (432) is enforced where Janus enforces it: when a participant sends
 *   an SDP offer to publish (publish / configure / joinandconfigure with a jsep offer), never at
 *   join. A slot is taken atomically under the room's lock, so the limit is exact under
 *   concurrency.
 * - `permanent: true` without a rooms file fails with 499, as Janus without a config file.
 * - record_all: rooms always record; `record: false` in create or configure is ignored (forced
 *   true) and `enable_recording` with `record: false` fails with 433.
 *
 * Threads: every function may be called from any thread unless said otherwise. */
#ifndef VB_GATEWAY_VIDEOROOM_H
#define VB_GATEWAY_VIDEOROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gateway/core.h"

struct archive;
struct vb_log;
struct vr;

struct vr_config {
    /* Permanent rooms: a JSON array of room objects (the keys of `create`), loaded at
     * vr_create() and rewritten atomically (tmp + fsync + rename) on create / edit / destroy
     * with permanent:true. A missing file is an empty list. NULL = no file (permanent: 499).
     * Copied. */
    const char *rooms_file;
    /* Rooms declared in the main configuration: a JSON array of room objects, or an object
     * whose members are room objects keyed "room-<id>" or "<id>". Borrowed for vr_create() only;
     * may be NULL. Rooms from the rooms file win over these on an id clash. */
    const json_t *rooms;
    /* When set, `create` requires it ("admin_key") and `list` shows private rooms only with
     * it. NULL or "" = none. Copied. */
    const char *admin_key;
    /* Compliance mode: every room records and clients cannot turn it off (see above). */
    bool record_all;
    /* rtp_forward / stop_rtp_forward need `admin_key` (Janus's lock_rtp_forward). */
    bool lock_rtp_forward;
    /* Where publishers' streams are recorded (borrowed; must outlive the plugin). NULL = no
     * recording: rooms still forward, and `record` is accepted but records nothing. */
    struct archive *archive;
    /* For rooms with signed_tokens: true when `token` (may be NULL) is a valid signed token for
     * room `room` (decimal id). NULL = signed tokens are off in the core, and signed_tokens is
     * ignored at create (as Janus does). Called from worker threads with no lock held. */
    bool (*token_room_ok)(void *ctx, const char *token, const char *room);
    void *token_ctx;
    const struct vb_log *log; /* borrowed; NULL = warnings to stderr */
};

/* Creates the plugin context: loads the configured rooms and the rooms file, starts the worker
 * threads. 0, -EINVAL (bad argument), or -errno from reading the rooms file (a file that is not
 * valid JSON is -EINVAL; an invalid room inside is skipped with a warning). The caller owns *out.
 */
int vr_create(const struct vr_config *cfg, struct vr **out);

/* Stops the workers (pending asynchronous requests are dropped) and frees everything. Call it
 * after gw_core_destroy() of every core using this plugin. NULL is a no-op. */
void vr_destroy(struct vr *v);

/* The plugin's static vtable; its ctx in the core's plugin table is the struct vr. */
const struct gw_plugin *vr_plugin(void);

/* A snapshot of one room's state, for the media and recording layers. */
struct vr_room_state {
    uint64_t room;
    bool record;         /* the room records (always true under record_all) */
    bool lock_record;    /* recording changes need the room secret */
    int max_publishers;  /* the publishers limit */
    size_t participants; /* joined publishers (active or not), as list's num_participants */
    size_t publishing;   /* participants holding a publisher slot (offer accepted) */
};

/* Fills *out for room `room`. 0 or -ENOENT. */
int vr_room_state_get(struct vr *v, uint64_t room, struct vr_room_state *out);

/* The room as a `list` entry (new reference), or NULL when there is no such room. Private rooms
 * are included. rec_dir, when set, is in it. */
json_t *vr_room_describe(struct vr *v, uint64_t room);

#endif
