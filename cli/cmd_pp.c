/* This file implements `verbatim pp`: janus-pp-rec's command line over the transcode
 * module. `verbatim pp [options] SOURCE.mjr [DEST]` converts one recording (format from
 * --format or DEST's extension); -j/-H/-p/-e only describe SOURCE; `--merge OUT IN...`
 * writes several recordings as the tracks of one file. A failed conversion prints one
 * sentence and exits 1 (as janus-pp-rec does); bad usage exits 2 (as every subcommand). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "cli/cli.h"
#include "cli/pp_info.h"
#include "transcode/transcode.h"

static void pp_usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: verbatim pp [options] SOURCE.mjr [DEST]\n"
        "       verbatim pp [options] --merge OUT SOURCE.mjr SOURCE.mjr...\n"
        "Converts MJR recordings like janus-pp-rec (same options), without re-encoding.\n"
        "  -f, --format=F            opus ogg mka wav webm mkv mp4 srt raw (default: DEST's "
        "extension)\n"
        "  -j, --json                print the header JSON only\n"
        "  -H, --header              describe the header only\n"
        "  -p, --parse               parse the recording and describe it\n"
        "  -e, --extended-json       print the header JSON with packets and duration\n"
        "  -F, --file-extensions     print the output formats each codec can go to\n"
        "  -m, --metadata=TEXT       metadata (comment) to store in the output\n"
        "  -i, --ignore-first=N      skip the first N packets\n"
        "  -P, --payload-type=PT     keep only packets of this payload type\n"
        "  -a, --audiolevel-ext=ID   audio-level extension id\n"
        "  -v, --videoorient-ext=ID  video-orientation extension id (default: from the "
        "header)\n"
        "  -t, --faststart           MP4 with its index at the front\n"
        "  -S, --audioskew=MS        realign audio whose clock drifts more than MS from arrival\n"
        "  -C, --silence-distance=N  drop SIP silence-suppression markers within N seqs "
        "(0 = off)\n"
        "  -r, --restamp=N           audio: restamp when latency > moving average x N/1000\n"
        "  -c, --restamp-packets=N   packets in that moving average (default 10)\n"
        "  -n, --restamp-min-th=MS   latency needed before restamping (default 500)\n"
        "  -I, --ignore-rtp-ts       time packets by their recorded arrival, not RTP time\n"
        "  -d, --debug-level=0..7    log level (default 4)\n"
        "  -D, --debug-timestamps    accepted   -o, --disable-colors   accepted\n"
        "      --merge OUT           write every SOURCE as a track of OUT (A/V in sync)\n"
        "  -q, --quiet               no progress bar\n");
}

struct pp_args {
    struct tc_options opts;
    bool json, header, parse, extended, extensions, quiet;
    const char *merge_out;
    int level;
};

static int parse_int(const char *s, long min, long max, const char *what, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "verbatim pp: invalid %s: '%s'\n", what, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

enum { OPT_MERGE = 1000 };

static int parse_args(int argc, char **argv, struct pp_args *a)
{
    static const struct option longs[] = {
        {"json", no_argument, NULL, 'j'},
        {"header", no_argument, NULL, 'H'},
        {"parse", no_argument, NULL, 'p'},
        {"extended-json", no_argument, NULL, 'e'},
        {"file-extensions", no_argument, NULL, 'F'},
        {"metadata", required_argument, NULL, 'm'},
        {"ignore-first", required_argument, NULL, 'i'},
        {"payload-type", required_argument, NULL, 'P'},
        {"audiolevel-ext", required_argument, NULL, 'a'},
        {"videoorient-ext", required_argument, NULL, 'v'},
        {"debug-level", required_argument, NULL, 'd'},
        {"debug-timestamps", no_argument, NULL, 'D'},
        {"disable-colors", no_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"faststart", no_argument, NULL, 't'},
        {"audioskew", required_argument, NULL, 'S'},
        {"silence-distance", required_argument, NULL, 'C'},
        {"restamp", required_argument, NULL, 'r'},
        {"restamp-packets", required_argument, NULL, 'c'},
        {"restamp-min-th", required_argument, NULL, 'n'},
        {"ignore-rtp-ts", no_argument, NULL, 'I'},
        {"merge", required_argument, NULL, OPT_MERGE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    tc_options_default(&a->opts);
    a->level = 4;
    optind = 1;
    opterr = 0;
    int c;
    long v = 0;
    while ((c = getopt_long(argc, argv, "jHpeFm:i:P:a:v:d:Dof:tS:C:r:c:n:Iqh", longs, NULL)) !=
           -1) {
        int rc = 0;
        switch (c) {
        case 'j':
            a->json = true;
            break;
        case 'H':
            a->header = true;
            break;
        case 'p':
            a->parse = true;
            break;
        case 'e':
            a->extended = true;
            break;
        case 'F':
            a->extensions = true;
            break;
        case 'm':
            a->opts.metadata = optarg;
            break;
        case 'i':
            rc = parse_int(optarg, 0, INT_MAX, "--ignore-first", &v);
            a->opts.ignore_first = (unsigned)v;
            break;
        case 'P':
            rc = parse_int(optarg, 0, 127, "--payload-type", &v);
            a->opts.payload_type = (int)v;
            break;
        case 'a':
            rc = parse_int(optarg, 1, 255, "--audiolevel-ext", &v);
            a->opts.audiolevel_ext = (int)v;
            break;
        case 'v':
            rc = parse_int(optarg, 1, 255, "--videoorient-ext", &v);
            a->opts.videoorient_ext = (int)v;
            break;
        case 'd':
            rc = parse_int(optarg, 0, 7, "--debug-level", &v);
            a->level = (int)v;
            break;
        case 'D':
        case 'o':
            break;
        case 'f':
            a->opts.format = optarg;
            break;
        case 't':
            a->opts.faststart = true;
            break;
        case 'S':
            rc = parse_int(optarg, 0, INT_MAX, "--audioskew", &v);
            a->opts.audioskew_ms = (int)v;
            break;
        case 'C':
            rc = parse_int(optarg, 0, INT_MAX, "--silence-distance", &v);
            a->opts.silence_distance = (int)v;
            break;
        case 'r':
        case 'c':
        case 'n':
            rc = parse_int(optarg, 0, INT_MAX, "restamp option", &v);
            break;
        case 'I':
            a->opts.ignore_rtp_ts = true;
            break;
        case OPT_MERGE:
            a->merge_out = optarg;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            pp_usage(stdout);
            return 1;
        default:
            fprintf(stderr, "verbatim pp: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return -EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct bar {
    bool on;
    int last_pct;
};

static bool show_progress(void *ud, const struct tc_progress *p)
{
    struct bar *b = ud;
    int pct = (int)(p->fraction * 100);
    if (!b->on || pct == b->last_pct)
        return true;
    b->last_pct = pct;
    char hashes[41];
    int n = pct * 40 / 100;
    memset(hashes, '#', (size_t)n);
    memset(hashes + n, '.', (size_t)(40 - n));
    hashes[40] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %.0f packets/s", hashes, pct, p->packets_per_s);
    return true;
}

static void print_result(const struct tc_job *job, const struct tc_result *res, int level)
{
    if (level < 4)
        return;
    for (size_t i = 0; i < res->n_tracks; i++) {
        const struct tc_track_stats *s = &res->tracks[i];
        fprintf(stderr,
                "%s: %s, %llu packets -> %llu frames (%llu keyframes), %.3f s; lost %llu, "
                "duplicates %llu, late %llu, refused %llu, damaged frames %llu, filled %llu",
                job->inputs[i], s->codec, (unsigned long long)s->packets,
                (unsigned long long)s->frames, (unsigned long long)s->key_frames,
                (double)s->duration_us / 1e6, (unsigned long long)s->lost,
                (unsigned long long)s->duplicates, (unsigned long long)s->late,
                (unsigned long long)s->refused, (unsigned long long)s->damaged_frames,
                (unsigned long long)s->filled_frames);
        if (s->width)
            fprintf(stderr, ", %dx%d", s->width, s->height);
        if (job->n_inputs > 1)
            fprintf(stderr, ", starts at %.3f s", (double)s->start_us / 1e6);
        fputc('\n', stderr);
    }
    fprintf(stderr, "written %s (%llu bytes of media)\n", job->output,
            (unsigned long long)res->bytes_out);
}

static int convert(struct pp_args *a, const char *const *inputs, size_t n, const char *out,
                   const struct vb_log *log)
{
    struct tc_job job = {.inputs = inputs, .n_inputs = n, .output = out, .opts = a->opts};
    job.opts.log = log;
    struct bar bar = {.on = !a->quiet && isatty(STDERR_FILENO), .last_pct = -1};
    struct tc_result res;
    int rc = transcode_job_run(&job, show_progress, &bar, &res);
    if (bar.on && bar.last_pct >= 0)
        fputc('\n', stderr);
    if (rc < 0) {
        fprintf(stderr, "verbatim pp: %s\n", res.error);
        return 1;
    }
    print_result(&job, &res, a->level);
    return 0;
}

int cli_pp(int argc, char **argv, const struct vb_log *log)
{
    struct pp_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        if (rc < 0)
            pp_usage(stderr);
        return rc < 0 ? 2 : 0;
    }
    /* libavformat's own messages: errors only, unless -d asks for more. */
    av_log_set_level(a.level >= 6 ? AV_LOG_INFO : a.level >= 5 ? AV_LOG_WARNING : AV_LOG_ERROR);
    if (a.extensions)
        return pp_info_extensions();
    int rest = argc - optind;
    char **files = argv + optind;
    if (a.merge_out) {
        if (rest < 1 || rest > TC_MAX_INPUTS) {
            fprintf(stderr, "verbatim pp: --merge takes 1 to %d recordings\n", TC_MAX_INPUTS);
            return 2;
        }
        return convert(&a, (const char *const *)files, (size_t)rest, a.merge_out, log);
    }
    if (rest < 1 || rest > 2) {
        pp_usage(stderr);
        return 2;
    }
    if (a.json || a.header || a.parse || a.extended)
        return pp_info_run(files[0], a.json, a.extended, a.parse, &a.opts);
    if (rest < 2) {
        fprintf(stderr, "verbatim pp: no destination given for %s\n", files[0]);
        return 2;
    }
    return convert(&a, (const char *const *)files, 1, files[1], log);
}
