/* This file implements the `verbatim` dispatcher: it finds the subcommand named by argv[1]
 * and runs it. `verbatim help` lists them; an unknown one prints the usage to stderr and
 * exits 2. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cli_help(int argc, char **argv, const struct vb_log *log);
static int cli_version(int argc, char **argv, const struct vb_log *log);

static const struct cli_command commands[] = {
    {"serve", "run the server: Janus API, Admin API, web catalog, recorder, transcoders",
     cli_serve},
    {"mjr", "MJR tools: `verbatim mjr info FILE [--json]`", cli_mjr},
    {"mjr2pcap", "convert an MJR recording to pcap: IN.mjr OUT.pcap", cli_mjr2pcap},
    {"pcap2mjr", "convert RTP in a pcap to MJR: -c CODEC [-s SSRC] IN.pcap OUT.mjr", cli_pcap2mjr},
    {"pp", "convert MJR to opus/webm/mp4/... like janus-pp-rec, or --merge A/V: see `pp -h`",
     cli_pp},
    {"catalog", "`catalog scan SRC [--data DIR]` index MJR files; `catalog verify` check hashes",
     cli_catalog},
    {"version", "print the version", cli_version},
    {"help", "list the subcommands", cli_help},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: verbatim <command> [options]\n\ncommands:\n");
    for (const struct cli_command *c = commands; c->name; c++)
        fprintf(fp, "  %-10s %s\n", c->name, c->summary);
}

static int cli_help(int argc, char **argv, const struct vb_log *log)
{
    (void)argc;
    (void)argv;
    (void)log;
    usage(stdout);
    return 0;
}

static int cli_version(int argc, char **argv, const struct vb_log *log)
{
    (void)argc;
    (void)argv;
    (void)log;
    printf("verbatim %s\n", VB_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    struct vb_log log = {.level = VB_LOG_INFO, .fp = stderr, .prefix = "verbatim"};
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    for (const struct cli_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1, &log);
    fprintf(stderr, "verbatim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
