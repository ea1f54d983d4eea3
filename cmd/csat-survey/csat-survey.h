/*
 * csat-survey.h: the subcommands of csat-survey(1), each in its module:
 * send and collect (send.c), report (report.c). Each gets the arguments
 * after the subcommand's name (argv[0] is the subcommand), parses its own
 * options, and returns the exit status (smsdesk(7), EXIT STATUS).
 */
#ifndef CSAT_SURVEY_H
#define CSAT_SURVEY_H

int survey_send(int argc, char **argv);
int survey_collect(int argc, char **argv);
int survey_report(int argc, char **argv);

#endif
