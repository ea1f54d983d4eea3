/*
 * twilio-sign: print X-Twilio-Signature for a form body sent to a URL.
 * A test tool (not installed): twilio-sign URL < body; the token comes
 * from TWILIO_AUTH_TOKEN, never argv.
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
	const char *token = getenv("TWILIO_AUTH_TOKEN");
	struct buf in = { 0 };
	struct form f = { 0 };
	struct errbuf e;
	char chunk[4096], sig[29];
	size_t n;

	if (argc != 2 || !token) {
		fputs("usage: TWILIO_AUTH_TOKEN=... twilio-sign URL < body\n",
		    stderr);
		return 2;
	}
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&in, chunk, n);
	if (form_parse(&f, in.p ? in.p : "", in.len, &e) < 0) {
		fprintf(stderr, "twilio-sign: %s\n", e.msg);
		return 1;
	}
	if (twilio_signature(token, argv[1], &f, sig) < 0)
		return 1;
	puts(sig);
	form_free(&f);
	buf_free(&in);
	return 0;
}
