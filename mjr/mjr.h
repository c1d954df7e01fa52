/* mjr/mjr.h — Janus MJR recordings: reader, asynchronous writer, crash recovery.
 *
 * The public interface of the mjr module. The format is described in docs/mjr-format.md.
 *
 * Reader: opens any MJR version (legacy MEETECHO, MJR00001, MJR00002) from a file or from
 * memory and iterates whole frames. Damaged input (truncated anywhere, trailing zeros, bodies
 * longer than the file, huge headers) yields the frames that are whole plus a diagnostic.
 *
 * Writer: an engine of writer threads that own the files; producers (media threads) append
 * frames to per-stream in-memory buffers and return at once. Files are MJR00002 and
 * byte-compatible with Janus, including its RTP sequence/timestamp rewrite.
 *
 * Recovery: finalizes a file a crash left under its temporary name. */
#ifndef VB_MJR_H
#define VB_MJR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"

enum mjr_version {
    MJR_VERSION_LEGACY = 0, /* "MEETECHO" + "audio"/"video" header, no frame times */
    MJR_VERSION_1 = 1,      /* "MJR00001" + JSON header, "MEETECHO" frame prefix */
    MJR_VERSION_2 = 2,      /* "MJR00002" + JSON header, "MEET" + u32 ms frame prefix */
};

enum mjr_kind {
    MJR_KIND_UNKNOWN = 0,
    MJR_KIND_AUDIO,
    MJR_KIND_VIDEO,
    MJR_KIND_DATA,
};

#define MJR_MAGIC_LEN 8
#define MJR_V2_FRAME_PREFIX 10   /* "MEET" + u32 t_ms + u16 len */
#define MJR_DATA_TIME_LEN 8      /* wall-clock µs prefix of data bodies */
#define MJR_FRAME_MAX 65535      /* u16 body length */
#define MJR_PP_HEADER_LIMIT 1500 /* janus-pp-rec refuses JSON headers this long or longer */

/* Header-letter and name of a kind: "a"/"v"/"d" and "audio"/"video"/"data". */
const char *mjr_kind_letter(enum mjr_kind kind);
const char *mjr_kind_name(enum mjr_kind kind);

/* RTP clock rate (Hz) used for a codec name as it appears in the "c" key ("opus" 48000,
 * "pcmu" 8000, "vp8" 90000, ...); 0 for data codecs or unknown names. */
uint32_t mjr_codec_clock_rate(const char *codec);

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                     */

/* One frame as read. Pointers are borrowed from the reader and valid until the next call to
 * mjr_reader_next() or mjr_reader_destroy(). */
struct mjr_frame {
    const uint8_t *body;  /* RTP packet, or the data message (v2 time prefix removed) */
    size_t len;           /* bytes at body */
    uint32_t t_ms;        /* v2: ms since the first frame; 0 for older versions */
    bool has_time;        /* t_ms is meaningful (v2 only) */
    int64_t data_real_us; /* data frames in v2: the 8-byte wall-clock prefix; else 0 */
    uint64_t offset;      /* file offset of the frame's prefix */
    uint64_t end;         /* file offset just past the frame */
};

struct mjr_reader;

/* Opens `path` for reading. Returns 0 and a reader in *out, -errno when the file cannot be
 * opened, or -EBADMSG when it is not an MJR file; on failure a sentence saying why is put in
 * `err` (may be NULL). The caller owns the reader and frees it with mjr_reader_destroy().
 * Any thread; one thread per reader. Files are read through a bounded buffer, so memory does
 * not grow with the file. */
int mjr_reader_open(const char *path, struct mjr_reader **out, char *err, size_t errlen);

/* As mjr_reader_open() over `len` bytes at `buf`, which are borrowed and must outlive the
 * reader. Used by the fuzz target and by tests of every truncation offset. */
int mjr_reader_open_mem(const uint8_t *buf, size_t len, struct mjr_reader **out, char *err,
                        size_t errlen);

void mjr_reader_destroy(struct mjr_reader *r);

enum mjr_version mjr_reader_version(const struct mjr_reader *r);
enum mjr_kind mjr_reader_kind(const struct mjr_reader *r);
/* Codec from the header ("opus", "vp8", ...); legacy files give "opus"/"vp8" as Janus
 * assumed. NULL if the header was cut off. Borrowed. */
const char *mjr_reader_codec(const struct mjr_reader *r);
/* The parsed JSON header (borrowed), NULL for legacy files or a missing/damaged header. */
json_t *mjr_reader_header(const struct mjr_reader *r);
/* Byte length of the header record's payload (JSON text, or "audio"/"video"). */
size_t mjr_reader_header_len(const struct mjr_reader *r);
/* Header "s" and "u" (wall clock µs), 0 when absent. */
int64_t mjr_reader_created_us(const struct mjr_reader *r);
int64_t mjr_reader_first_frame_us(const struct mjr_reader *r);

/* Reads the next whole frame into *f. Returns 1 with a frame, 0 at the end (clean or not:
 * see mjr_reader_truncated/diag). Never reads out of bounds, whatever the bytes. */
int mjr_reader_next(struct mjr_reader *r, struct mjr_frame *f);

/* After mjr_reader_next() returned 0: true when the file did not end cleanly after a whole
 * frame (a cut-off frame, zero padding, a bad prefix, a body past the end of the file). */
bool mjr_reader_truncated(const struct mjr_reader *r);
/* A human-readable sentence about how the parse ended or what looked wrong; "" when clean. */
const char *mjr_reader_diag(const struct mjr_reader *r);
/* Offset just past the last whole frame read so far (or past the header/magic): the length
 * a recovered file is trimmed to. */
uint64_t mjr_reader_good_end(const struct mjr_reader *r);

/* ------------------------------------------------------------------------------------------ */
/* What the header of a new recording says. Strings are borrowed for the duration of
 * mjr_stream_open(), which copies them. */
struct mjr_info {
    enum mjr_kind kind;      /* required */
    const char *codec;       /* required: "opus", "vp8", "text", ... */
    const char *fmtp;        /* optional "f" */
    const char *description; /* optional "d" */
    const char *extmaps[16]; /* optional "x": extmaps[id] for id 1..14; NULL = none */
    int opusred_pt;          /* optional "or" (audio), 0 = none */
    bool e2ee;               /* "e": true */
    int64_t created_us;      /* "s"; 0 = the clock's wall time at open */
};

/* Renders the JSON header text exactly as Janus does (key order t c f d x s u or e, ", " and
 * ": " separators, no newline). Returns a malloc'd string the caller frees. */
char *mjr_header_render(const struct mjr_info *info, int64_t created_us, int64_t first_us);

/* ------------------------------------------------------------------------------------------ */
/* RTP rewrite as Janus's recorder applies it: written seq starts at 1 and timestamp at 0,
 * continuing relative to the source; after an SSRC change or a resume it continues seamlessly
 * (seq = last + 1, timestamp = last + elapsed wall time at the codec's clock rate). */
struct mjr_rebase {
    uint32_t clock_rate; /* Hz; 0 = 48000 for audio, 90000 for video (Janus's guess) */
    bool started;
    bool reset;
    uint32_t last_ssrc;
    uint32_t base_ts, base_ts_prev, last_ts;
    uint16_t base_seq, base_seq_prev, last_seq;
    int64_t last_time_us; /* monotonic time of the last packet (or of the resume) */
};

/* Computes the rewritten seq/timestamp for one packet arriving at `now_us` (monotonic) with
 * source `ssrc`, `seq`, `ts`. Pure arithmetic; any thread owning `rb`. */
void mjr_rebase_apply(struct mjr_rebase *rb, uint32_t ssrc, uint16_t seq, uint32_t ts,
                      int64_t now_us, uint16_t *out_seq, uint32_t *out_ts);
/* Marks a resume at `now_us`: the next packet continues seamlessly from the last one. */
void mjr_rebase_resume(struct mjr_rebase *rb, int64_t now_us);

/* ------------------------------------------------------------------------------------------ */
/* Asynchronous writer engine */

enum mjr_sync_policy {
    MJR_SYNC_CLOSE = 0, /* fdatasync once when a stream closes (default) */
    MJR_SYNC_NONE,      /* never fsync: the page cache / device cache decide */
    MJR_SYNC_FLUSH,     /* fdatasync after every timed flush and at close */
};

/* Test hook: called on the writer thread before each write of `len` bytes at `off` to the
 * file being written for `path` (the temporary name). Return 0 to write normally, a negative
 * errno to fail the write with it, or a positive count to write only that many bytes (a
 * short write). Production passes NULL. */
struct mjr_fault {
    int (*before_write)(void *ctx, const char *path, uint64_t off, size_t len);
    void *ctx;
};

struct mjr_engine_config {
    unsigned writer_threads;    /* default 1 */
    size_t memory_budget;       /* bytes of stream buffers in all; default 256 MiB */
    unsigned flush_interval_ms; /* partial blocks reach the disk at least this often; 1000 */
    size_t prealloc_chunk;      /* fallocate step ahead of the write position; 1 MiB */
    unsigned queue_depth;       /* libaio events per writer thread; default 2048 */
    enum mjr_sync_policy sync;
    bool buffered;                 /* force buffered pwrite instead of O_DIRECT + libaio */
    const struct vb_clock *clock;  /* borrowed; NULL = system clocks */
    const struct mjr_fault *fault; /* borrowed; NULL in production */
    const struct vb_log *log;      /* borrowed; may be NULL */
};

struct mjr_engine;
struct mjr_stream;

/* What became of a stream, passed to its on_closed callback (on a writer thread). */
struct mjr_stream_result {
    const char *path;   /* final path (or the temporary one if it could not be finalized) */
    int status;         /* 0, or the -errno that failed the stream (-ENOSPC, -EIO, ...) */
    uint64_t bytes;     /* logical length of the file on disk */
    uint64_t frames;    /* frames accepted */
    uint64_t dropped;   /* frames dropped (budget exhausted, stream failed, bad input) */
    bool recovered;     /* a failed stream was trimmed to its last whole frame */
    bool has_sha256;    /* opts.sha256 was set and the file exists under `path` */
    uint8_t sha256[32]; /* of the file's bytes as finished */
};

struct mjr_stream_opts {
    const char *path;     /* final file name; written as "<path>.tmp" until close */
    struct mjr_info info; /* header of the recording */
    size_t segment_size;  /* buffer unit; 0 = default for the kind; rounded up to a power of 2 */
    bool raw;             /* do not rewrite RTP seq/timestamp (pcap2mjr) */
    bool sha256;          /* hash the file on the writer thread as its bytes become final */
    /* Called once on a writer thread when the stream is finished; the stream is freed
     * right after it returns. May be NULL. */
    void (*on_closed)(void *ud, const struct mjr_stream_result *res);
    void *ud;
};

/* Per-stream counters; readable from any thread while the stream is open. */
struct mjr_stream_stats {
    uint64_t frames;  /* accepted */
    uint64_t bytes;   /* logical bytes produced (magic, header, frames) */
    uint64_t dropped; /* frames dropped for any reason */
    int status;       /* 0 or the -errno that failed the stream */
};

struct mjr_engine_stats {
    uint64_t streams_open;
    uint64_t bytes_buffered; /* currently allocated stream buffers */
    uint64_t bytes_written;  /* bytes written to files (including rewrites of tail blocks) */
    uint64_t writes;         /* write operations completed */
    uint64_t dropped;        /* frames dropped across all streams */
    uint64_t failed_streams;
    bool direct_io; /* false once any file fell back to buffered writes */
};

/* Starts the writer threads. `cfg` may be NULL for defaults; it is copied. Returns 0 or
 * -errno. The caller owns the engine. Call from a control thread. */
int mjr_engine_create(const struct mjr_engine_config *cfg, struct mjr_engine **out);

/* Finishes every open stream as if closed, waits for the writers, frees the engine.
 * NULL is a no-op. Control thread; no producer may use a stream of this engine afterwards. */
void mjr_engine_destroy(struct mjr_engine *e);

/* Writes out every stream's partial tail block now and waits until those writes completed
 * (what the flush timer does once a second). Control thread; for tests and shutdown. */
void mjr_engine_flush(struct mjr_engine *e);

/* Snapshot of engine counters. Any thread. */
void mjr_engine_stats_get(const struct mjr_engine *e, struct mjr_engine_stats *st);

/* Creates a recording stream: the writer thread creates "<path>.tmp" (O_DIRECT when the
 * filesystem allows), the magic is buffered at once. Returns 0 and the stream (owned by the
 * caller until mjr_stream_close), -EINVAL on bad options. File errors arrive later as the
 * stream's status. Any thread. */
int mjr_stream_open(struct mjr_engine *e, const struct mjr_stream_opts *opts,
                    struct mjr_stream **out);

/* Appends one RTP packet (plain, decrypted). Copies it into the stream's buffer and returns:
 * no syscall, no lock, no allocation in the steady state. Returns 0 when buffered, -EAGAIN
 * when dropped because the memory budget is exhausted, -EINVAL for a packet too short to be
 * RTP or too long for the format, the stream's -errno once it failed, -EPIPE while paused.
 * Dropped frames are counted. Only the stream's producer thread (one at a time). */
int mjr_stream_write_rtp(struct mjr_stream *s, const uint8_t *pkt, size_t len);

/* Appends one data-channel message, stamped with the wall clock. Same contract. */
int mjr_stream_write_data(struct mjr_stream *s, const uint8_t *msg, size_t len);

/* Pause drops frames until resume; resume continues RTP time seamlessly. Producer thread. */
void mjr_stream_pause(struct mjr_stream *s);
void mjr_stream_resume(struct mjr_stream *s);

/* Counters of an open stream. Any thread, until mjr_stream_close(). */
void mjr_stream_stats_get(const struct mjr_stream *s, struct mjr_stream_stats *st);

/* Ends the stream: the writer writes what is buffered, truncates the file to its logical
 * length, syncs per policy, renames it to its final name and calls on_closed. Returns at
 * once; `s` must not be used afterwards. Producer thread. */
void mjr_stream_close(struct mjr_stream *s);

/* ------------------------------------------------------------------------------------------ */
/* Recovery */

struct mjr_recover_result {
    uint64_t kept_bytes;    /* length after trimming */
    uint64_t trimmed_bytes; /* bytes removed (cut-off frame, preallocated zeros) */
    uint64_t frames;        /* whole frames kept */
    char diag[160];         /* what the end of the file looked like */
};

/* Trims a file left open by a crash (`tmp_path`, e.g. "x.mjr.tmp") to its last whole frame,
 * fsyncs it and renames it to `final_path` (NULL: tmp_path minus its ".tmp" suffix).
 * Returns 0, -EBADMSG if it is not an MJR file (left untouched), or -errno. Blocking I/O:
 * never call on a media thread. */
int mjr_recover(const char *tmp_path, const char *final_path, struct mjr_recover_result *res);

/* ------------------------------------------------------------------------------------------ */
/* pcap conversion, as Janus's mjr2pcap and pcap2mjr tools do it (blocking file I/O; tools
 * and control threads only). On failure a sentence saying why goes to `err` (may be NULL). */

/* Writes every RTP frame of `mjr_path` as a classic pcap (Ethernet link type) with fake
 * IPv4/UDP headers, stamped with the header's "u" plus the frame's t_ms. Returns 0 or -errno
 * (-EBADMSG for a file that is not MJR, -ENOTSUP for a data recording). */
int mjr_pcap_export(const char *mjr_path, const char *pcap_path, char *err, size_t errlen);

struct mjr_pcap_import_opts {
    const char *codec; /* required: the "c" header value; decides audio/video */
    uint32_t ssrc;     /* only packets of this SSRC; 0 = the first RTP SSRC seen */
    const struct vb_log *log;
};

/* Reads RTP over UDP (Ethernet, Linux SLL/SLL2; IPv4/IPv6; payload types outside 64-95)
 * from `pcap_path` and writes MJR00002 to `mjr_path` with the packet times. Returns 0 or
 * -errno (-EBADMSG for a damaged or unsupported capture). */
int mjr_pcap_import(const char *pcap_path, const char *mjr_path,
                    const struct mjr_pcap_import_opts *opts, char *err, size_t errlen);

#endif
