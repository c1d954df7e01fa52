/* This file implements `verbatim serve`: the server on its embedded defaults.
 *
 * Today the server is the recording engine: it creates the data folders, finalizes the
 * recordings a previous run left open (crash recovery of "*.mjr.tmp"), starts the MJR writer
 * engine and runs until SIGINT or SIGTERM. The gateway (REST 127.0.0.1:8088/janus, admin
 * 127.0.0.1:7088/admin) and the web catalog (127.0.0.1:8090) are not built yet; it says so
 * at start rather than pretending to listen.
 *
 * DESIGN: signals are blocked in every thread and taken synchronously with sigwait() in the
 * main thread, so no handler and no global flag are needed. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "mjr/mjr.h"

struct serve_opts {
    const char *data_dir;
    unsigned writer_threads;
};

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Finalizes every "*.mjr.tmp" under `dir` and its sub-folders (one level: <room>/). */
static void recover_dir(const char *dir, int depth, const struct vb_log *log)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0) {
            recover_dir(path, depth - 1, log);
        } else if (S_ISREG(st.st_mode) && has_suffix(de->d_name, ".mjr.tmp")) {
            struct mjr_recover_result rr;
            int rc = mjr_recover(path, NULL, &rr);
            if (rc == 0)
                vb_log_info(log, "recovered %s: %llu frames kept, %llu bytes trimmed", path,
                            (unsigned long long)rr.frames, (unsigned long long)rr.trimmed_bytes);
            else
                vb_log_error(log, "cannot recover %s: %s", path, strerror(-rc));
        }
    }
    closedir(d);
}

static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            o->data_dir = argv[++i];
        } else if (strcmp(argv[i], "--writer-threads") == 0 && i + 1 < argc) {
            char *end;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || n == 0 || n > 64)
                return -EINVAL;
            o->writer_threads = (unsigned)n;
        } else {
            return -EINVAL;
        }
    }
    return 0;
}

int cli_serve(int argc, char **argv, const struct vb_log *log)
{
    struct serve_opts o = {.data_dir = "data", .writer_threads = 1};
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: verbatim serve [--data DIR] [--writer-threads N]\n");
        return 2;
    }
    char rec_dir[4096];
    snprintf(rec_dir, sizeof(rec_dir), "%s/recordings", o.data_dir);
    int rc = make_dir(o.data_dir);
    if (rc == 0)
        rc = make_dir(rec_dir);
    if (rc != 0) {
        vb_log_error(log, "cannot create %s: %s", rec_dir, strerror(-rc));
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: all inherit it */

    recover_dir(rec_dir, 1, log);
    struct mjr_engine_config cfg = {.writer_threads = o.writer_threads, .log = log};
    struct mjr_engine *engine = NULL;
    rc = mjr_engine_create(&cfg, &engine);
    if (rc != 0) {
        vb_log_error(log, "cannot start the MJR writer engine: %s", strerror(-rc));
        return 1;
    }
    vb_log_info(log, "recording engine ready: %u writer thread(s), recordings in %s",
                o.writer_threads, rec_dir);
    vb_log_info(log, "not built yet: Janus REST API (127.0.0.1:8088/janus), admin API "
                     "(127.0.0.1:7088/admin), web catalog (127.0.0.1:8090)");
    vb_log_info(log, "serving; stop with Ctrl-C or SIGTERM");
    int sig = 0;
    sigwait(&set, &sig);
    vb_log_info(log, "signal %d: finishing open recordings", sig);
    mjr_engine_destroy(engine);
    vb_log_info(log, "stopped");
    return 0;
}
