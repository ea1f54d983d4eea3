/*
 * gsm-tables.h: data behind gsm.c (internal to lib/).
 */
#ifndef GSM_TABLES_H
#define GSM_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "gsm.h"

struct gsm_table {
	const char *name;
	int has_locking, has_single;
	uint16_t locking[128];	/* septet -> code point, 0 = none */
	uint16_t single[128];	/* ESC + septet -> code point, 0 = none */
};

/* Indexed by NLI; [0] is the default alphabet and extension table. */
extern const struct gsm_table gsm_tables[GSM_LANG_COUNT];

struct gsm_smart {
	uint32_t cp;
	const char *to;
};

extern const struct gsm_smart gsm_smart_map[];
extern const size_t gsm_smart_count;

#endif
