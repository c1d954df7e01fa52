/* cli/cli.h — the subcommands of the `verbatim` program.
 *
 * Each subcommand is a function taking its own argv (argv[0] is the subcommand's name) and
 * returning the process exit code: 0 success, 1 failure of the work, 2 bad usage. */
#ifndef VB_CLI_H
#define VB_CLI_H

#include "common/log.h"

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv, const struct vb_log *log);
};

int cli_serve(int argc, char **argv, const struct vb_log *log);
int cli_mjr(int argc, char **argv, const struct vb_log *log);
int cli_mjr2pcap(int argc, char **argv, const struct vb_log *log);
int cli_pcap2mjr(int argc, char **argv, const struct vb_log *log);
int cli_pp(int argc, char **argv, const struct vb_log *log);
int cli_catalog(int argc, char **argv, const struct vb_log *log);

#endif
