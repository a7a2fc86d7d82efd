/* trav_stdlib.c -- traversal routines: see traverse_impl.h. */
#include "traverse_impl.h"

const trav_routine ins_trav_stdlib_routines[] = {
	{ NULL, NULL },
};
