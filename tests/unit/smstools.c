/*
 * smstools.c: smsd's spool files, read and written (lib/smstools.h), on
 * files as smstools3 3.1.21 writes them (src/smsd.c received2file(),
 * change_headers(); src/pdu.c split_type_2(); doc/fileformat.html).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smstools.h"
#include "tap.h"

#define LIT(s) s, sizeof s - 1

static int
parse(const char *p, size_t n, struct smstools_file *f)
{
	struct errbuf e;

	return smstools_parse(p, n, f, &e);
}

static void
reading(void)
{
	struct smstools_file f;
	struct errbuf e;

	/* doc/fileformat.html's received message. */
	ok(parse(LIT("From: 491721234567\nFrom_SMSC: 491722270333\n"
	    "Sent: 00-02-21 22:26:23\nReceived: 00-02-21 22:26:29\n"
	    "Subject: modem1\nAlphabet: ISO\nUDH: false\n\n"
	    "This is the Text"), &f) == 0, "a received message");
	is_str(smstools_header(&f, "From"), "491721234567", "From:");
	is_str(smstools_header(&f, "Subject"), "modem1", "Subject:");
	ok(smstools_header(&f, "from") == NULL, "headers are case-sensitive");
	is_str(f.text, "This is the Text", "its text");
	ok(!f.report && f.concat_ref == -1, "no report, no part");
	smstools_file_free(&f);

	/* smsd's ISO: euro at 0xA4, Greek capitals at 0x81-0x8A. */
	ok(parse(LIT("From: 1\nAlphabet: ISO\nLength: 6\n\n"
	    "\xA4\x81\x8A\xE9\xFFz"), &f) == 0, "ISO");
	is_str(f.text, "€ΔΞéÿz", "decoded as smsd's charset.c does");
	smstools_file_free(&f);

	ok(parse(LIT("From: 1\nAlphabet: UCS2\nLength: 3\n\n"
	    "\x04\x1F\xD8\x3D\xDE\x00"), &f) == 0, "UCS2");
	is_str(f.text, "П😀", "UTF-16BE, a surrogate pair joined");
	smstools_file_free(&f);

	ok(parse(LIT("From: 1\nAlphabet: GSM\n\n\x00\x1B\x65\x02\x10"), &f) ==
	    0, "GSM septets (cs_convert = no)");
	is_str(f.text, "@€$Δ", "the default alphabet and its extension");
	smstools_file_free(&f);

	ok(parse(LIT("From: 1\r\nAlphabet: UTF-8\r\n\r\nhé"), &f) == 0,
	    "CRLF lines");
	is_str(smstools_header(&f, "Alphabet"), "UTF-8", "no CR in a value");
	is_str(f.text, "hé", "UTF-8 as it is");
	smstools_file_free(&f);

	ok(parse(LIT("From: 491721234567\nSubject: GSM1\nAlphabet: ISO\n"
	    "UDH: false\n\nSMS STATUS REPORT\nMessage_id: 117\n"
	    "Discharge_timestamp: 02-01-21 22:27:02\n"
	    "Status: 0,Ok,short message received by the SME\n"), &f) == 0,
	    "a status report");
	ok(f.report && strcmp(f.message_id, "117") == 0 && f.status == 0,
	    "its Message_id and Status");
	is_str(f.status_text, "Ok,short message received by the SME",
	    "and its words");
	smstools_file_free(&f);

	ok(parse(LIT("From: 1\nAlphabet: ISO\nUDH-DATA: 05 00 03 A7 03 02\n"
	    "UDH: true\n\npart"), &f) == 0 && f.concat_ref == 0xA7 &&
	    f.concat_total == 3 && f.concat_part == 2,
	    "a part, 8-bit reference");
	smstools_file_free(&f);
	ok(parse(LIT("From: 1\nAlphabet: ISO\nUDH-DATA: 06 08 04 12 34 02 01"
	    "\n\npart"), &f) == 0 && f.concat_ref == 0x1234 &&
	    f.concat_total == 2 && f.concat_part == 1,
	    "a part, 16-bit reference");
	smstools_file_free(&f);
	ok(parse(LIT("From: 1\nAlphabet: ISO\nUDH-DATA: 05 00 03 A7 02 03\n"
	    "\npart"), &f) == 0 && f.concat_ref == -1,
	    "a part past its total is no part");
	smstools_file_free(&f);

	/* What is wrong. */
	ok(smstools_parse(LIT("From: 1\nAlphabet: ISO"), &f, &e) < 0 &&
	    errno == EAGAIN, "no end of headers: EAGAIN (being written)");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\nLength: 9\n\nshort"), &f, &e) < 0 &&
	    errno == EAGAIN, "shorter than Length: EAGAIN");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\nAlphabet: UCS2\nLength: 2\n\nab"), &f,
	    &e) < 0 && errno == EAGAIN, "UCS2 Length: counts characters");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\njunk line\n\ntext"), &f, &e) < 0 &&
	    errno == EINVAL, "a header that is no Name: value");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\nAlphabet: binary\n\n\x01\x02"), &f,
	    &e) < 0 && errno == EINVAL, "binary: not a text");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("Error: Cannot decode PDU, see text part for "
	    "details.\nFrom: 1\n\nx"), &f, &e) < 0 && errno == EINVAL,
	    "smsd's Error: header");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\nAlphabet: UTF-8\n\n\xC3"), &f, &e) < 0 &&
	    errno == EINVAL, "UTF-8 that is not");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\nAlphabet: UCS2\n\n\xD8\x3D"), &f, &e) <
	    0 && errno == EINVAL, "a lone surrogate");
	smstools_file_free(&f);
	ok(smstools_parse(LIT("From: 1\n\nSMS STATUS REPORT\nStatus: 0,Ok"),
	    &f, &e) < 0 && errno == EINVAL, "a report without Message_id");
	smstools_file_free(&f);
	ok(smstools_parse_head(LIT("To: 1\nAlphabet: UCS2\n\n\x01"), &f, &e) ==
	    0 && f.text == NULL, "the headers alone, whatever the text");
	smstools_file_free(&f);
}

static void
writing(void)
{
	struct buf b = { 0 };
	struct errbuf e;

	ok(smstools_write(&b, "+15551234567", LIT("Hi {you} €"), &e) == 0,
	    "a GSM text");
	ok(b.len == sizeof "To: 15551234567\nAlphabet: UTF-8\nReport: yes\n\n"
	    "Hi {you} €" - 1 && memcmp(b.p, "To: 15551234567\nAlphabet: "
	    "UTF-8\nReport: yes\n\nHi {you} €", b.len) == 0,
	    "To: without +, Alphabet: UTF-8, the text as it is");
	b.len = 0;
	ok(smstools_write(&b, "+4412", LIT("ü☃😀"), &e) == 0, "beyond GSM");
	ok(b.len == sizeof "To: 4412\nAlphabet: UCS2\nReport: yes\n\n" - 1 +
	    8 && memcmp(b.p, "To: 4412\nAlphabet: UCS2\nReport: yes\n\n"
	    "\x00\xFC\x26\x03\xD8\x3D\xDE\x00", b.len) == 0,
	    "UCS2, UTF-16 big-endian");
	b.len = 0;
	ok(smstools_write(&b, "72345", LIT("x"), &e) == 0 &&
	    memcmp(b.p, "To: s72345\n", 11) == 0, "a short code: s");
	b.len = 0;
	ok(smstools_write(&b, "+1555 123", LIT("x"), &e) < 0 &&
	    errno == EINVAL, "no number: EINVAL");
	ok(smstools_write(&b, "+15551234567", LIT("\xFF"), &e) < 0 &&
	    errno == EINVAL, "no UTF-8: EINVAL");
	buf_free(&b);
}

static void
words(void)
{
	time_t t;

	is_str(smstools_status_word(0), "delivered", "0: delivered");
	is_str(smstools_status_word(2), "delivered", "2: replaced, delivered");
	ok(smstools_status_word(32) == NULL, "32-63: still trying, no news");
	is_str(smstools_status_word(70), "undelivered", "70: undelivered");
	is_str(smstools_status_word(101), "undelivered", "101: undelivered");
	ok(smstools_status_word(200) == NULL, "reserved: no news");
	setenv("TZ", "UTC", 1);
	ok(smstools_time("26-11-22 10:00:00", &t) == 0 && t == 1795341600,
	    "smsd's time, local");
	ok(smstools_time("2026-11-22 10:00:00x", &t) < 0, "not one");
}

int
main(void)
{
	reading();
	writing();
	words();
	return tap_done();
}
