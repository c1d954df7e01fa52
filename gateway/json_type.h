/* gateway/json_type.h — the JSON types a request member may be required to have, checked and
 * named the way Janus words its "Invalid element type (x should be ...)" errors. Shared by the
 * Admin API (admin*.c) and the compiled-in plugins (videoroom/), which check their requests'
 * members the same way. Pure functions: any thread. */
#ifndef VB_GATEWAY_JSON_TYPE_H
#define VB_GATEWAY_JSON_TYPE_H

#include <stdbool.h>

#include <jansson.h>

enum gw_json_type {
    GW_JSON_STRING, /* "a string" */
    GW_JSON_INT,    /* "an integer" */
    GW_JSON_UINT,   /* "a positive integer" (0 included, as Janus) */
    GW_JSON_BOOL,   /* "a boolean" */
    GW_JSON_ARRAY,  /* "an array" */
    GW_JSON_OBJECT, /* "an object" */
};

/* True when `v` (borrowed, may be NULL) has type `t`. */
bool gw_json_type_ok(const json_t *v, enum gw_json_type t);
/* The type as Janus's errors say it ("a string", ...): a static string. */
const char *gw_json_type_name(enum gw_json_type t);

#endif
