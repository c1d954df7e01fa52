/* common/xalloc.h — allocation that cannot fail.
 *
 * Out of memory is not an error path we handle: these wrappers abort with a message, so
 * every other error path in the project is about input and I/O. */
#ifndef VB_COMMON_XALLOC_H
#define VB_COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Memory aligned to `align` (a power of two, multiple of sizeof(void *)); free() it. */
void *xaligned_alloc(size_t align, size_t n);

#endif
