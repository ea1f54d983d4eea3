/*
 * smstools.h: the spool files of SMS Server Tools 3 (smsd), read and
 * written (lib/provider/smstools.c).
 *
 * smsd keeps its messages as files in a spool directory (by default
 * /var/spool/sms): we write a message into outgoing/; smsd sends it and
 * moves it, its headers added, to sent/ or failed/; what comes in (a
 * message, or a status report) it writes into incoming/ (reports into
 * report/ when it is configured so). A file is header lines "Name: value",
 * an empty line, and the text. smsdesk-smstools(5) says which headers we
 * write and read, and where each rule comes from.
 *
 * Ownership: a parsed file (struct smstools_file) owns its headers and
 * its text; smstools_file_free() frees them.
 */
#ifndef SMSTOOLS_H
#define SMSTOOLS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "diag.h"

#define SMSTOOLS_HEADERS_MAX 48	/* header lines a file may have */
#define SMSTOOLS_FILE_MAX 65536	/* bytes: a longer file is no SMS */
#define SMSTOOLS_PREFIX "smsdesk-"	/* our outgoing files' names */

struct smstools_header {
	char *name;			/* without the ":" */
	char *value;			/* spaces around it cut */
};

struct smstools_file {
	struct smstools_header hdr[SMSTOOLS_HEADERS_MAX];
	int nhdr;
	char *text;			/* the text in UTF-8, NUL-terminated */
	size_t text_len;
	const char *alphabet;		/* as the file said, or NULL */
	int report;			/* 1: a status report (its text
					   begins "SMS STATUS REPORT") */
	/* A status report's own lines (in its text): */
	char message_id[32];		/* "Message_id:", or "" */
	int status;			/* "Status:" its number, or -1 */
	char status_text[128];		/* and its words */
	/* A part of a long message (its UDH-DATA): */
	int concat_ref;			/* -1 if the file is no part */
	int concat_part, concat_total;
};

/*
 * Parse the len bytes of a spool file into f: its headers (case as
 * written: smsd's headers are case-sensitive), then its text decoded by
 * its Alphabet: UCS2 (UTF-16 big-endian) into UTF-8, ISO (smsd's own
 * 8-bit set: ISO 8859-1 with the euro sign at 0xA4 and Greek capitals
 * at 0x81-0x8A), GSM (the GSM 03.38 default alphabet, a byte a septet,
 * escape 0x1B), UTF-8 as it is. Returns 0, or -1 with errno and e
 * saying what is wrong: EINVAL (no empty line after the headers, a
 * header that is no "Name: value", a binary message, a text that is
 * not in its alphabet, a PDU smsd could not decode), EAGAIN (shorter
 * than its Length: header says: smsd may be writing it still), ENOMEM.
 * f is to be freed whatever it returned.
 */
int smstools_parse(const char *p, size_t len, struct smstools_file *f,
    struct errbuf *e);

/*
 * As smstools_parse(), the headers alone (f->text NULL): for the files
 * smsd moved to sent/ and failed/, whose text is ours.
 */
int smstools_parse_head(const char *p, size_t len, struct smstools_file *f,
    struct errbuf *e);

/* The value of header name (exact case) in f, or NULL. */
const char *smstools_header(const struct smstools_file *f, const char *name);

void smstools_file_free(struct smstools_file *f);

/*
 * Append to out the outgoing file of a text of len bytes of UTF-8 to to
 * (E.164 "+15551234567", written as smsd wants it: digits without "+";
 * a number that is digits alone, a short code, with smsd's "s" before
 * it): "To:", "Alphabet:" (UTF-8 if every character is in the GSM 03.38
 * default alphabet or its extension, which smsd then sends as GSM; else
 * UCS2, with the text in UTF-16 big-endian), "Report: yes", an empty
 * line, the text. Returns 0, or -1 with errno EINVAL and e filled (a
 * number smsd cannot take, text that is not UTF-8) or ENOMEM.
 */
int smstools_write(struct buf *out, const char *to, const char *text,
    size_t len, struct errbuf *e);

/*
 * A status report's Status number (TS 23.040 TP-Status) in sms-record(5)'s
 * words: 0-31 "delivered"; 64-127 "undelivered" (the SMSC gave up); NULL
 * for 32-63 (the SMSC is still trying: no news) and anything else.
 */
const char *smstools_status_word(int status);

/*
 * The time of a timestamp in smsd's default format ("%y-%m-%d %H:%M:%S",
 * datetime_format), local time: 0, or -1 if s is not one.
 */
int smstools_time(const char *s, time_t *t);

#endif
