/* This file implements file-system helpers shared by the modules (see fs.h). */
#include "common/fs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/xalloc.h"

int vb_mkdir_p(const char *path, mode_t mode)
{
    if (!path || !path[0])
        return -EINVAL;
    char *p = xstrdup(path);
    int rc = 0;
    /* Each prefix that ends before a '/' (skipping a leading one), then the whole path. */
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (!end && *s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        if (end)
            break;
        *s = '/';
    }
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            rc = -errno;
        else if (!S_ISDIR(st.st_mode))
            rc = -ENOTDIR;
    }
    free(p);
    return rc;
}
