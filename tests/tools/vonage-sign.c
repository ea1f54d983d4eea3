/*
 * vonage-sign: print the form body on stdin with Vonage's sig appended
 * ("&sig=..."), signed by the method given (md5hash, md5, sha1, sha256,
 * sha512). A test tool (not installed): vonage-sign METHOD < body; the
 * secret comes from VONAGE_SIGNATURE_SECRET, never argv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "form.h"
#include "provider.h"

int
main(int argc, char **argv)
{
	const char *secret = getenv("VONAGE_SIGNATURE_SECRET");
	struct buf in = { 0 };
	struct form f = { 0 };
	struct errbuf e;
	char chunk[4096], sig[129];
	size_t n;

	if (argc != 2 || !secret) {
		fputs("usage: VONAGE_SIGNATURE_SECRET=... vonage-sign METHOD "
		    "< body\n", stderr);
		return 2;
	}
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&in, chunk, n);
	while (in.len > 0 && in.p[in.len - 1] == '\n')
		in.len--;
	if (form_parse(&f, in.p ? in.p : "", in.len, &e) < 0) {
		fprintf(stderr, "vonage-sign: %s\n", e.msg);
		return 1;
	}
	if (vonage_signature(secret, argv[1], &f, sig) < 0) {
		perror("vonage-sign");
		return 1;
	}
	printf("%.*s&sig=%s\n", (int)in.len, in.p ? in.p : "", sig);
	form_free(&f);
	buf_free(&in);
	return 0;
}
