/* bigmem.h -- arrays sized by the heap: per object, per node, per edge.
 *
 * Tens to thousands of megabytes, written once front to back. On 4 KB pages each page's first
 * touch is a fault (a third of a graph build's time on a VM); these ask for transparent huge
 * pages (where the kernel gives them on request: "madvise" mode), one fault per 2 MB. The
 * memory is malloc's: free() and realloc() work on it as on any other.
 */
#ifndef INS_BIGMEM_H
#define INS_BIGMEM_H

#include <stddef.h>

/* malloc(n * size) (NULL if that overflows), on huge pages when big. */
void *ins_big_malloc(size_t n, size_t size);
/* The same, zeroed. */
void *ins_big_calloc(size_t n, size_t size);
/* realloc(p, n * size), the new part on huge pages when big. */
void *ins_big_realloc(void *p, size_t n, size_t size);

#endif
