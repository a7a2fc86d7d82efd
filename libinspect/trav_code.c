/* trav_code.c -- traversal routines: see traverse_impl.h. */
#include "traverse_impl.h"

const trav_routine ins_trav_code_routines[] = {
	{ NULL, NULL },
};
