/* libinspect/libinspect.h -- the whole public API of libinspect.
 *
 * libinspect reads CPython heaps out of memory images without running anything inside them:
 *   program.h   opening a core, a live process or a host's reader; the interpreter found
 *   objects.h   one object: facts, repr, referents and referrers with labels
 *   analysis.h  type statistics, objects by type, chains, the collection and its cycles,
 *               leaking objects, refcounts, threads and stacks, the collector's state
 *   errors.h    errors as values, freeing
 * The library prints nothing and runs no process; front ends (objinspect, the GDB
 * extension, the Python package objinspect) render its answers.
 */
#ifndef LIBINSPECT_LIBINSPECT_H
#define LIBINSPECT_LIBINSPECT_H

#include "analysis.h"
#include "errors.h"
#include "objects.h"
#include "program.h"

#endif
