/* transcode/transcode.h — turning MJR recordings into files people can play.
 *
 * A job converts one MJR file (or merges several: audio and video of a participant, or many
 * participants of a room) into one output file, muxed with libavformat without re-encoding.
 * Packets are reordered in a bounded window, gaps are filled or stamped correctly, and the
 * output is written under a temporary name and renamed only when complete. A pool of worker
 * threads runs jobs from a queue with progress and cancellation.
 *
 * Thread-safety: transcode_job_run() may run on many threads at once (one job each). The
 * pool's functions may be called from any thread. */
#ifndef VB_TRANSCODE_H
#define VB_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

/* janus-pp-rec's conversion options, same meanings. */
struct tc_options {
    const char *format;    /* -f: opus ogg mka wav webm mkv mp4 srt raw; NULL: DEST's extension */
    unsigned ignore_first; /* -i: packets to skip at the start of each input */
    int payload_type;      /* -P: keep only this payload type; -1 = any */
    int audiolevel_ext;    /* -a: extension id of ssrc-audio-level; 0 = none */
    int videoorient_ext;   /* -v: extension id of video-orientation; 0 = none */
    bool faststart;        /* -t: MP4 with the index at the front */
    int audioskew_ms;      /* -S: audio whose RTP clock drifts from the arrival times by more
                              than this is realigned (jump forward, or drop packets); 0 = off */
    int silence_distance;  /* -C: audio packets with the marker bit within this many sequence
                              numbers of the last but far ahead in RTP time start SIP-style
                              silence suppression and are dropped; 0 = off */
    int restamp;           /* -r: audio packets whose latency (arrival time minus RTP time)
                              exceeds the moving average x restamp/1000 move the timeline
                              forward by the difference; 0 = off */
    int restamp_packets;   /* -c: packets in that moving average (default 10) */
    int restamp_min_th_ms; /* -n: latency below which nothing is restamped (default 500) */
    bool ignore_rtp_ts;    /* -I: time packets by their MJR arrival time, not RTP time */
    const char *metadata;  /* -m: the container's comment/title metadata; may be NULL */
    const struct vb_log *log; /* borrowed; may be NULL */
};

/* Defaults as janus-pp-rec's. */
void tc_options_default(struct tc_options *o);

struct tc_job {
    const char *const *inputs; /* MJR paths; two or more only for a merge */
    size_t n_inputs;
    const char *output; /* final path; written as "<output>.part" then renamed */
    struct tc_options opts;
};

struct tc_progress {
    double fraction;      /* 0..1 of the input bytes read */
    uint64_t packets;     /* RTP packets read so far */
    double packets_per_s; /* since the job started */
};

/* Called now and then on the job's thread; return false to cancel the job. */
typedef bool (*tc_progress_fn)(void *ud, const struct tc_progress *p);

struct tc_track_stats {
    char codec[16];
    uint64_t packets, frames, key_frames;
    uint64_t duplicates, late, lost, refused; /* refused: not RTP, too large, other SSRC/PT */
    uint64_t damaged_frames, skipped_frames;  /* skipped: waiting for a keyframe */
    uint64_t filled_frames;                   /* silence/PLC frames inserted into gaps */
    uint64_t skew_dropped;                    /* -S: dropped because the source ran fast */
    uint64_t discontinuities; /* audio RTP time jumps not seen in arrival times, closed up */
    uint64_t unfilled_gaps;   /* audio gaps over an hour, left as timestamp gaps */
    int width, height;        /* video: first keyframe's */
    int64_t start_us;         /* track start on the output's timeline */
    int64_t duration_us;
};

struct tc_result {
    int status;      /* 0, or -errno (-ECANCELED when cancelled) */
    char error[256]; /* one sentence when status != 0 */
    size_t n_tracks;
    struct tc_track_stats tracks[8];
    uint64_t bytes_out;
};

#define TC_MAX_INPUTS 8

/* Runs a job to the end on the calling thread. Returns 0 and the output file exists under
 * its final name, or -errno with res->error set and no file left under that name (nor the
 * temporary one). `progress` may be NULL. */
int transcode_job_run(const struct tc_job *job, tc_progress_fn progress, void *ud,
                      struct tc_result *res);

/* The formats that accept `codec`, as "webm, mkv, ..." into buf. */
void transcode_formats_for(const char *codec, char *buf, size_t len);

/* The output format name for a path's extension ("x.webm" -> "webm"), or NULL. */
const char *tc_format_from_path(const char *path);

/* What a parse of a recording finds (janus-pp-rec's --parse and --extended-json). */
struct tc_resolution_change {
    double at_s; /* seconds from the first packet */
    int width, height;
};
struct tc_description {
    char codec[16];
    char kind; /* 'a', 'v', 'd' */
    uint32_t ssrc;
    uint64_t packets;  /* RTP packets kept (data: messages) */
    double duration_s; /* last minus first timestamp */
    size_t n_resolutions;
    struct tc_resolution_change resolutions[32]; /* video: the first and every change */
    struct tc_track_stats st;
};

/* Parses `path` as a conversion would, without writing anything. Returns 0, or -errno with
 * a sentence in err. */
int transcode_describe(const char *path, const struct tc_options *o, struct tc_description *d,
                       char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------ */
/* Worker pool */

struct tc_pool;

struct tc_pool_job {
    struct tc_job job; /* strings borrowed until done() is called */
    /* Called once when the job ends, whatever the outcome; may be NULL. On the worker thread
     * for a job that ran; on the cancelling thread (inside tc_pool_cancel/tc_pool_destroy)
     * for a job cancelled while queued. No pool lock is held: it may submit or cancel jobs,
     * but not wait for or destroy the pool. */
    void (*done)(void *ud, const struct tc_result *res);
    /* Called on the worker thread with progress; may be NULL. */
    void (*progress)(void *ud, const struct tc_progress *p);
    void *ud;
};

/* Starts `threads` workers (0 = the number of online CPUs). Returns 0 or -errno. */
int tc_pool_create(unsigned threads, struct tc_pool **out);

/* Queues a job; returns its id (> 0) or -errno (-ESHUTDOWN after destroy began). The job
 * struct is copied; what its pointers point at must live until done(). */
int64_t tc_pool_submit(struct tc_pool *p, const struct tc_pool_job *job);

/* Cancels a queued or running job: it ends with -ECANCELED (done() is still called). A
 * running job notices at its next progress point; one that finishes first ends normally.
 * Returns 0, or -ENOENT if the id is unknown or already finished. */
int tc_pool_cancel(struct tc_pool *p, int64_t id);

/* Waits until the queue is empty and no job runs. */
void tc_pool_wait(struct tc_pool *p);

/* Cancels queued jobs, waits for running ones, stops the workers, frees the pool. */
void tc_pool_destroy(struct tc_pool *p);

#endif
