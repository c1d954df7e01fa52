/* gateway/sdp/sdp_internal.h — helpers shared by the files of gateway/sdp/: growing arrays,
 * replacing strings, strict number and token parsing, the attribute parsers and the model's
 * free functions. Not for use outside gateway/sdp/. Pure functions: any thread. */
#ifndef VB_GATEWAY_SDP_INTERNAL_H
#define VB_GATEWAY_SDP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/sdp/sdp.h"

/* Makes room for element `n` of an array that only grows through this function (capacity is
 * kept at the next power of two of the count, so no capacity field is needed). Returns the
 * possibly moved array; the new element is zeroed. */
void *sdp_grow(void *arr, size_t n, size_t elem);
#define SDP_PUSH(arr, n) ((arr) = sdp_grow((arr), (n), sizeof *(arr)), &(arr)[(n)++])

/* Replaces *dst with a copy of the first `n` bytes of `s` (NULL s: NULL). */
void sdp_set(char **dst, const char *s);
void sdp_setn(char **dst, const char *s, size_t n);
/* Appends a verbatim attribute. */
void sdp_attr_push(struct sdp_attr **arr, size_t *n, const char *name, const char *value);
/* Removes element i of an array of `elem`-sized elements (order kept). */
void sdp_remove(void *arr, size_t *n, size_t i, size_t elem);

/* Strict decimal: only digits, at least one, value <= max. 0 or -EINVAL. */
int sdp_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);
/* The same over a NUL-terminated string. */
int sdp_parse_num(const char *s, uint64_t max, uint64_t *out);
/* Splits `s` in place at runs of spaces/tabs into at most `max` tokens; when there are more,
 * the last token is the untouched rest of the line (trailing blanks removed). Returns the
 * count. */
int sdp_split(char *s, char **tok, int max);
/* True when the string is non-empty and has no byte below 0x21 or equal to 0x7f. */
bool sdp_is_token(const char *s);

enum sdp_direction sdp_direction_parse(const char *s);

/* Attribute parsers (attrs.c): parse `value` (a modifiable copy) into the model. 0, or
 * -EINVAL with a message in `err`. */
int sdp_candidate_parse(const char *value, struct sdp_candidate *c, char *err, size_t errlen);
int sdp_extmap_parse(char *value, struct sdp_extmap *e, char *err, size_t errlen);
int sdp_fingerprint_parse(char *value, struct sdp_fingerprint *f, char *err, size_t errlen);
int sdp_setup_parse(const char *value, enum sdp_setup *s, char *err, size_t errlen);
int sdp_ssrc_parse(char *value, struct sdp_ssrc *s, char *err, size_t errlen);
int sdp_ssrc_group_parse(char *value, struct sdp_ssrc_group *g, char *err, size_t errlen);
int sdp_rid_parse(char *value, struct sdp_rid *r, char *err, size_t errlen);
/* a=rtpmap / fmtp / rtcp-fb for a payload type: `rest` is what follows "<pt> ". */
int sdp_rtpmap_parse(char *rest, struct sdp_codec *c, char *err, size_t errlen);
void sdp_codec_set_fmtp(struct sdp_codec *c, const char *fmtp);
/* A parameter of an fmtp string ("a=1;b=2"): copies the value of `key` into val. */
bool sdp_fmtp_param(const char *fmtp, const char *key, char *val, size_t vlen);

/* Freeing the parts of a model. */
void sdp_candidate_clear(struct sdp_candidate *c);
void sdp_codec_clear(struct sdp_codec *c);
void sdp_media_clear(struct sdp_media *m);
void sdp_fingerprint_clear(struct sdp_fingerprint *f);
/* A new m-line appended to `sdp` (zeroed, sctp_port and max_msg_size -1). */
struct sdp_media *sdp_media_add(struct sdp *sdp, enum sdp_media_type type, const char *proto);
/* Appends a codec to an RTP m-line. */
struct sdp_codec *sdp_codec_add(struct sdp_media *m, int pt, const char *name, uint32_t clock,
                                unsigned channels);
void sdp_codec_add_fb(struct sdp_codec *c, const char *fb);
/* Remove the typed and verbatim transport attributes (anonymize.c; used by merge.c too). */
void sdp_media_strip_transport(struct sdp_media *m);
void sdp_session_strip_transport(struct sdp *s);
/* "audio"/"video"/"application" for the typed kinds. */
const char *sdp_media_type_name(enum sdp_media_type t);

#endif
