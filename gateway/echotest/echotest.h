/* gateway/echotest/echotest.h — `janus.plugin.echotest`, Janus's first test: whatever a peer
 * sends comes back to it (audio, video), so a client sees its own media return.
 *
 * Requests (the message body, as Janus's EchoTest): `audio`, `video` (bool: echo that kind),
 * `bitrate` (int: a REMB cap sent to the peer), `audiocodec` / `videocodec` (preferred codec
 * of the answer), `record` (bool) / `filename` (string): what the peer sends is recorded through
 * the archive as MJR files (room "echotest", participant = the handle id; with `filename` the
 * files are <filename>-audio-<mindex>.mjr / -video-, else Janus-style names).
 * With a jsep offer the event carries the answer. Every request is answered asynchronously:
 * an ack, then {"echotest":"event","result":"ok"} with the same transaction.
 *
 * The context is owned by whoever creates it (serve) and must outlive the core. */
#ifndef VB_GATEWAY_ECHOTEST_H
#define VB_GATEWAY_ECHOTEST_H

#include "common/log.h"
#include "gateway/core.h"

struct archive;
struct echotest;

/* Starts the plugin's worker thread. `archive` (borrowed, may be NULL: `record` is then refused)
 * must outlive the plugin. 0 or a negative errno. */
int echotest_create(const struct vb_log *log, struct archive *archive, struct echotest **out);
/* Stops the worker (pending requests are dropped) and frees. Call after gw_core_destroy.
 * NULL is a no-op. */
void echotest_destroy(struct echotest *e);
/* The plugin's static vtable; its ctx in the core's plugin table is the struct echotest. */
const struct gw_plugin *echotest_plugin(void);

#endif
