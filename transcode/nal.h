/* transcode/nal.h — what the H.264 and H.265 depacketizers share: Annex B output, removal of
 * emulation-prevention bytes, parameter-set storage, the 16-bit-size walk of aggregation
 * packets (STAP-A, AP) and reassembly of fragmentation units (FU-A, FU) directly in the
 * output buffer.
 *
 * Internal to transcode/. No allocation beyond the caller's vb_buf; one thread per object. */
#ifndef VB_TRANSCODE_NAL_H
#define VB_TRANSCODE_NAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "transcode/depay.h"

/* Largest parameter set (VPS, SPS, PPS) kept for extradata, and largest SPS parsed. */
#define TC_NAL_PS_MAX 1024

/* The latest parameter set of one kind, as sent (emulation-prevention bytes kept). Embedded
 * in a depacketizer's state. */
struct tc_nal_ps {
    size_t len; /* 0 until one was seen */
    uint8_t data[TC_NAL_PS_MAX];
};

/* Replaces `ps` with a copy of the `len` bytes at `nal`; -E2BIG (ps unchanged) when `len` is
 * over TC_NAL_PS_MAX or 0. */
int tc_nal_ps_set(struct tc_nal_ps *ps, const uint8_t *nal, size_t len);

/* Appends 00 00 00 01 and the `len` bytes at `nal` to `out`; 0 or -E2BIG (out unchanged). */
int tc_nal_put(struct vb_buf *out, const uint8_t *nal, size_t len);

/* Appends every parameter set of `ps[0..n)` in Annex B, in that order, if all `n` were seen;
 * otherwise appends nothing. 0, or -E2BIG with `out` unchanged. */
int tc_nal_ps_put_all(const struct tc_nal_ps *const *ps, size_t n, struct vb_buf *out);

/* Copies the NAL unit at `in` to `out` without its emulation-prevention bytes (the 03 of
 * every 00 00 03), stopping after `cap` bytes. Returns the bytes written. */
size_t tc_nal_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* A walk over the units of an aggregation packet after its header: repeated 16-bit size and
 * unit. */
struct tc_nal_agg {
    const uint8_t *p;
    size_t left;
};

/* The next unit in *nal / *len: returns 1, 0 at the end, or -EBADMSG when a size is 0 or runs
 * past the packet (the walk then ends: a later call returns 0). */
int tc_nal_agg_next(struct tc_nal_agg *it, const uint8_t **nal, size_t *len);

/* What a codec does with one whole NAL unit: check it, write it, inspect it. */
typedef int (*tc_nal_emit_fn)(void *state, const uint8_t *nal, size_t len, struct vb_buf *out,
                              struct tc_frame_info *fi);

/* Calls `emit` for every unit of an aggregation packet's body (`p`, after the packet's own
 * header). A malformed or empty aggregation sets fi->damaged. Returns 0, or emit's -errno. */
int tc_nal_agg_each(const uint8_t *p, size_t len, tc_nal_emit_fn emit, void *state,
                    struct vb_buf *out, struct tc_frame_info *fi);

/* One fragmented NAL unit being rebuilt at the end of `out`. Zero it at the start of a frame. */
struct tc_nal_fu {
    bool active;  /* a start fragment was seen and no end yet */
    size_t start; /* out->len before the run's start code */
    uint64_t seq; /* sequence number of the last fragment taken */
};

/* Takes one fragment: `hdr` (the rebuilt NAL header, `hlen` bytes, used with a start
 * fragment), the start and end bits, the fragment's bytes and the packet's sequence number.
 * A run must begin with a start fragment and continue with consecutive sequence numbers; a
 * fragment that breaks it drops the partial NAL unit from `out` and sets *damaged. Returns 1
 * when a NAL unit is complete (it is at out->p + *nal_off up to out->len, after its start
 * code), 0 otherwise, or -E2BIG when `out` is full. */
int tc_nal_fu_add(struct tc_nal_fu *fu, struct vb_buf *out, const uint8_t *hdr, size_t hlen,
                  bool start, bool end, const uint8_t *data, size_t len, uint64_t seq,
                  bool *damaged, size_t *nal_off);

/* Ends a run that did not see its end fragment: drops the partial NAL unit from `out` and
 * sets *damaged. Nothing happens when no run is open. */
void tc_nal_fu_abort(struct tc_nal_fu *fu, struct vb_buf *out, bool *damaged);

#endif
