/*
 * output.h: what sms-send(1) writes out (output.c): each message's final
 * record, as the sending path's on_end hook (lib/send.h), and a run's
 * summaries on stderr.
 */
#ifndef SMS_SEND_OUTPUT_H
#define SMS_SEND_OUTPUT_H

#include <jansson.h>

#include "send.h"

void out_emit(struct send *s, const json_t *msg, enum outcome oc);
void out_dry_summary(const struct send *s);
void out_summary(const struct send *s);

#endif
