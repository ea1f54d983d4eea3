/*
 * send.c: csat-survey send and collect (csat-survey(1)).
 */
#include "diag.h"
#include "csat-survey/csat-survey.h"

int
survey_send(int argc, char **argv)
{
	(void)argc, (void)argv;
	diag_die(EXIT_USAGE, "send: not yet");
}

int
survey_collect(int argc, char **argv)
{
	(void)argc, (void)argv;
	diag_die(EXIT_USAGE, "collect: not yet");
}
