/* This file implements audio clock skew compensation (janus-pp-rec's -S): a sender whose
 * audio clock runs faster or slower than the wall clock makes its RTP time drift away from
 * the arrival times recorded in the MJR file, and so from the video it should play with.
 *
 * DESIGN: the expected RTP time of a packet is extrapolated from the first packet by its
 * arrival time; the difference (delay) is smoothed with a 1/64 moving average, and acted on
 * after a 5 s warm-up. When the smoothed delay falls behind by more than the threshold (the
 * source is slow) the track's timeline jumps forward by the lag, and the gap is filled like
 * any other; when it runs ahead (the source is fast) packets are dropped, each pulling the
 * timeline back by its duration, until the delay is back where it started. */
#include "transcode/track.h"

#define SKEW_WARMUP_MS 5000

int64_t tc_skew_apply(struct tc_skew *k, uint32_t rate, int threshold_ms, uint32_t t_ms, int64_t ts,
                      int64_t duration, bool *drop)
{
    *drop = false;
    int64_t adj = ts + k->shift;
    if (!k->started) { /* the first packet is the reference of both clocks */
        k->started = true;
        k->start_ms = t_ms;
        k->start_ts = adj;
        return adj;
    }
    double expected = (double)k->start_ts + ((double)t_ms - (double)k->start_ms) * rate / 1000.0;
    k->delay = (63.0 * k->delay + ((double)adj - expected)) / 64.0;
    if ((int64_t)t_ms - (int64_t)k->start_ms < SKEW_WARMUP_MS)
        return adj; /* measured, not acted on: arrival jitter of the first seconds */
    double threshold = (double)threshold_ms * rate / 1000.0;
    double lag = -k->delay; /* > 0: RTP time behind the wall clock */
    if (lag > threshold) {
        int64_t jump = (int64_t)lag;
        k->shift += jump;
        k->delay += (double)jump;
        k->jumps++;
        return adj + jump;
    }
    if (k->delay > threshold || (k->dropping && k->delay > 0)) {
        k->dropping = true;
        k->shift -= duration;
        k->delay -= (double)duration;
        k->drops++;
        *drop = true;
        return adj;
    }
    k->dropping = false;
    return adj;
}
