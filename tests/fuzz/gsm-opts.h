/*
 * gsm-opts.h: the options of a segmentation harness, from one byte of its
 * input: bit 0 Smart Encoding, bits 1-4 one of 16 sets of national tables
 * (none, one, the pairs people use, all).
 */
#ifndef FUZZ_GSM_OPTS_H
#define FUZZ_GSM_OPTS_H

#include <stdint.h>

#include "gsm.h"

static const unsigned fuzz_lang_sets[16] = {
	0, 1u << GSM_LANG_TURKISH, 1u << GSM_LANG_SPANISH,
	1u << GSM_LANG_PORTUGUESE, 1u << GSM_LANG_BENGALI,
	1u << GSM_LANG_HINDI, 1u << GSM_LANG_URDU,
	(1u << GSM_LANG_TURKISH) | (1u << GSM_LANG_SPANISH),
	(1u << GSM_LANG_HINDI) | (1u << GSM_LANG_SPANISH),
	(1u << GSM_LANG_TAMIL) | (1u << GSM_LANG_TELUGU),
	(1u << GSM_LANG_GUJARATI) | (1u << GSM_LANG_PUNJABI),
	(1u << GSM_LANG_KANNADA) | (1u << GSM_LANG_MALAYALAM) |
	    (1u << GSM_LANG_ORIYA),
	(1u << GSM_LANG_PORTUGUESE) | (1u << GSM_LANG_SPANISH),
	(1u << GSM_LANG_TURKISH) | (1u << GSM_LANG_PORTUGUESE),
	(1u << GSM_LANG_COUNT) - 2, (1u << GSM_LANG_COUNT) - 1,
};

static inline void
fuzz_gsm_opts(uint8_t b, struct gsm_opts *o)
{
	o->smart = b & 1;
	o->languages = fuzz_lang_sets[b >> 1 & 15];
}

#endif
