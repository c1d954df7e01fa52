/* mjr/engine_internal.h — the shared state of the asynchronous MJR writer.
 *
 * Three parties touch a stream: its producer (a media thread), its writer thread, and
 * control threads (open, stats, flush, destroy). Each field below says who writes it.
 *
 * The producer appends bytes to a chain of aligned segments and publishes its progress with
 * a release store of `committed`; the writer reads `committed` with acquire and may then read
 * every byte below it. The writer hands finished segments back through a single-producer /
 * single-consumer ring (`free_ring`) and advances `released`. No lock is shared between the
 * producer and the writer. */
#ifndef VB_MJR_ENGINE_INTERNAL_H
#define VB_MJR_ENGINE_INTERNAL_H

#include <libaio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "common/sha256.h"
#include "mjr/arena.h"
#include "mjr/mjr.h"

#define MJR_BLOCK 4096u            /* alignment of buffers, sizes and offsets for O_DIRECT */
#define MJR_SEG_SLOTS 64u          /* segments a stream may have in flight at once */
#define MJR_SEG_VIDEO (32u * 1024) /* default segment size of video streams */
#define MJR_SEG_AUDIO (8u * 1024)  /* default segment size of audio and data streams */
#define MJR_FREE_KEEP 2u           /* recycled segments a stream keeps; more are freed */
#define MJR_TICK_US 5000           /* writer poll interval */

struct mjr_writer;

enum mjr_wstate {
    MJR_W_NEW = 0, /* not yet opened by the writer */
    MJR_W_OPEN,    /* file open, writing */
    MJR_W_FAILED,  /* an I/O error ended writing; waits for close */
};

struct mjr_stream {
    /* The append path's state: two cache lines, so that a packet touches these two lines and
     * the bytes it is copied to, nothing else (with thousands of streams per media thread
     * each line is a likely cache miss). Written by the producer, except `status` (by the
     * writer, once, when the stream fails) and `committed` (read by the writer). */
    _Alignas(64) const struct vb_clock *clock; /* the engine's */
    uint64_t pos;                              /* logical bytes produced */
    _Atomic uint64_t committed;                /* bytes the writer may read (release/acquire) */
    uint8_t *cur;                              /* memory of segment cur_seg */
    uint64_t cur_seg;
    uint64_t notified_seg; /* segment index of the last push onto the ready stack */
    uint64_t segs_ready;   /* segments [0, segs_ready) have memory assigned */
    atomic_int status;     /* 0 or -errno, set by the writer when the stream fails */
    uint8_t seg_shift;     /* log2(seg_size) */
    bool raw;
    bool paused;
    bool header_done;
    /* second line */
    struct mjr_rebase rebase;
    int64_t first_mono_us;
    _Atomic uint64_t frames;  /* accepted (single writer: plain load + store) */
    _Atomic uint64_t dropped; /* dropped for any reason */

    /* Producer, touched when a segment changes or at close. */
    _Alignas(64) atomic_bool closing; /* set once by mjr_stream_close() after the last commit */
    _Atomic uint32_t free_tail;       /* free_ring consumer index */
    uint8_t *slots[MJR_SEG_SLOTS];    /* segment k lives in slots[k % MJR_SEG_SLOTS] */

    /* Immutable after mjr_stream_open(). */
    struct mjr_engine *engine;
    struct mjr_writer *writer;
    char *path;           /* final name */
    char *tmp_path;       /* "<path>.tmp" while open */
    struct mjr_info info; /* strings owned (copied) */
    size_t seg_size;      /* a power of two, at least MJR_BLOCK */
    void (*on_closed)(void *ud, const struct mjr_stream_result *res);
    void *ud;
    int64_t created_us;
    char *hdr_tmpl;     /* the JSON header rendered at open with a placeholder for "u" */
    size_t hdr_u_at;    /* where the value of "u" goes */
    size_t hdr_tail_at; /* what follows the placeholder */
    size_t hdr_tail_len;

    /* Written by the writer, read by the producer. */
    _Alignas(64) _Atomic uint64_t released; /* segments below this index are given back */
    _Atomic uint32_t free_head;             /* free_ring producer index */
    atomic_bool queued; /* on the ready stack: set by the producer, cleared by the writer */
    struct mjr_stream *ready_next;
    uint8_t *free_ring[MJR_SEG_SLOTS];

    /* Writer only. */
    _Alignas(64) enum mjr_wstate wstate;
    int fd;
    bool direct;
    uint64_t done;         /* bytes [0, done) are on disk in whole blocks */
    uint64_t tail_written; /* committed length the last tail-block write covered */
    uint64_t allocated;    /* file size reserved with fallocate */
    uint64_t flush_target; /* write at least up to here now (0: no flush pending) */
    int64_t last_flush_us;
    bool inflight;
    bool inflight_tail;
    uint64_t io_off;
    size_t io_len;
    unsigned stalls;   /* consecutive writes that made no progress */
    uint8_t *tail_buf; /* one aligned block for partial-block writes */
    struct iocb iocb;
    bool force_close; /* engine destroy: finish as if closed */
    bool listed;      /* taken from `incoming` into the writer's list */
    bool hashing;     /* opts.sha256: `hash` covers bytes [0, hashed) */
    uint64_t hashed;
    struct vb_sha256 hash;
    struct mjr_stream *next; /* in the writer's list (or its incoming list) */
    struct mjr_stream *prev;
};

/* The append path's fields must stay within their two lines. */
_Static_assert(offsetof(struct mjr_stream, header_done) < 64, "first hot line overflows");
_Static_assert(offsetof(struct mjr_stream, dropped) + sizeof(uint64_t) <= 128,
               "second hot line overflows");

struct mjr_writer {
    struct mjr_engine *engine;
    unsigned index;
    pthread_t thread;
    io_context_t aio;
    bool aio_ok;
    struct io_event *events;
    struct iocb **batch;
    unsigned batch_len;
    unsigned inflight;             /* I/Os submitted and not yet reaped */
    int64_t pass_us;               /* time between passes over every stream */
    struct mjr_stream **completed; /* streams whose write completed in the last reap */
    unsigned completed_len;
    struct mjr_stream *streams; /* writer-only list */
    /* Streams with work, pushed by producers (lock-free stack; taken whole by the writer). */
    _Alignas(64) _Atomic(struct mjr_stream *) ready;

    /* Control: guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct mjr_stream *incoming;
    uint64_t flush_req;
    uint64_t flush_ack;
    uint64_t flush_req_seen; /* the request the current flush answers */
    bool flushing;
    bool stop;
};

struct mjr_engine {
    struct mjr_engine_config cfg;
    struct mjr_writer *writers;
    _Atomic unsigned next_writer;
    struct mjr_arena *arena;      /* segment memory; NULL: the heap (mmap refused) */
    _Atomic uint32_t shifts_used; /* bit (shift - MJR_ARENA_MIN_SHIFT): a stream uses it */

    /* Counters the writers update on every write: kept off the lines of the configuration,
     * which producers read on every packet. */
    _Alignas(64) _Atomic uint64_t buffered; /* bytes of segment memory allocated */
    _Atomic uint64_t streams_open;
    _Atomic uint64_t bytes_written;
    _Atomic uint64_t writes;
    _Atomic uint64_t dropped;
    _Atomic uint64_t failed_streams;
    atomic_bool fallback_logged;
};

/* Writer thread body (writer_loop.c). */
void *mjr_writer_main(void *arg);

/* What a writer does to one stream (writer.c); writer thread only. */
enum mjr_step {
    MJR_STEP_IDLE,     /* nothing to write now */
    MJR_STEP_WROTE,    /* a write was queued or performed */
    MJR_STEP_FINISHED, /* closed and fully written: finish it */
};
/* Queues or performs the stream's next writes; *progress is set if one completed at once. */
enum mjr_step mjr_writer_step(struct mjr_writer *w, struct mjr_stream *s, int64_t now,
                              bool *progress);
/* Takes the result of a write (bytes written or -errno). */
void mjr_writer_write_done(struct mjr_stream *s, long res);
/* Creates the stream's file; on failure the stream's status says why. */
void mjr_writer_start(struct mjr_stream *s, int64_t now);
/* Finishes the file, calls on_closed and frees the stream. */
void mjr_writer_finish(struct mjr_stream *s);

/* Pushes a stream onto its writer's ready stack unless it is there already (producer). */
void mjr_stream_notify(struct mjr_stream *s);

/* Segment memory (stream.c): allocate within the engine's budget, or free. Allocation takes
 * a prefaulted arena segment, or heap memory when the arena has none of that size free. */
uint8_t *mjr_seg_alloc(struct mjr_engine *e, size_t seg_size, bool force);
void mjr_seg_free(struct mjr_engine *e, uint8_t *mem, size_t seg_size);
/* Keeps free arena segments of every size in use ready for producers (control and writer
 * threads: may fault pages). */
void mjr_seg_refill(struct mjr_engine *e);

/* Frees a stream and every segment it holds (writer thread, after on_closed). */
void mjr_stream_free(struct mjr_stream *s);

/* File operations of the writer (writer_file.c). All run on the stream's writer thread. */
int mjr_file_open(struct mjr_stream *s);
int mjr_file_reserve(struct mjr_stream *s, uint64_t end);
/* Writes [off, off+len) from `buf` synchronously or prepares s->iocb for libaio. Returns
 * 0 when the iocb is ready to submit, 1 when the write already completed (its result in
 * *res), or -errno. */
int mjr_file_prepare_write(struct mjr_stream *s, const uint8_t *buf, uint64_t off, size_t len,
                           long *res);
void mjr_file_finish(struct mjr_stream *s, struct mjr_stream_result *res);

#endif
