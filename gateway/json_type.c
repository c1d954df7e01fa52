/* This file implements the checks and names of the JSON types a request member may be required
 * to have (gateway/json_type.h), as the Admin API and the plugins word their errors. */
#include "gateway/json_type.h"

bool gw_json_type_ok(const json_t *v, enum gw_json_type t)
{
    switch (t) {
    case GW_JSON_STRING:
        return json_is_string(v);
    case GW_JSON_INT:
        return json_is_integer(v);
    case GW_JSON_UINT:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case GW_JSON_BOOL:
        return json_is_boolean(v);
    case GW_JSON_ARRAY:
        return json_is_array(v);
    default:
        return json_is_object(v);
    }
}

const char *gw_json_type_name(enum gw_json_type t)
{
    switch (t) {
    case GW_JSON_STRING:
        return "a string";
    case GW_JSON_INT:
        return "an integer";
    case GW_JSON_UINT:
        return "a positive integer";
    case GW_JSON_BOOL:
        return "a boolean";
    case GW_JSON_ARRAY:
        return "an array";
    default:
        return "an object";
    }
}
