/*
 * report.c: csat-survey report (csat-survey(1)).
 */
#include "diag.h"
#include "csat-survey/csat-survey.h"

int
survey_report(int argc, char **argv)
{
	(void)argc, (void)argv;
	diag_die(EXIT_USAGE, "report: not yet");
}
