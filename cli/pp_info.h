/* cli/pp_info.h — the describing modes of `verbatim pp` (janus-pp-rec's -j, -H, -p, -e, -F).
 * Each prints to stdout and returns the exit code. */
#ifndef VB_CLI_PP_INFO_H
#define VB_CLI_PP_INFO_H

#include <stdbool.h>

#include "transcode/transcode.h"

/* -j: the header JSON; -e: with packets/duration (and video resolutions); -p / -H: text. */
int pp_info_run(const char *path, bool json, bool extended, bool parse, const struct tc_options *o);
/* -F: the output formats of each codec. */
int pp_info_extensions(void);

#endif
