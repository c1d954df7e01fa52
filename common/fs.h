/* common/fs.h — small file-system helpers. Blocking I/O: control and worker threads only. */
#ifndef VB_COMMON_FS_H
#define VB_COMMON_FS_H

#include <sys/types.h>

/* Creates `path` and every missing parent with `mode` (mkdir -p). 0, -ENOTDIR when something
 * that is not a folder is in the way, or another -errno. */
int vb_mkdir_p(const char *path, mode_t mode);

#endif
