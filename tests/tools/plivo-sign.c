/*
 * plivo-sign: print X-Plivo-Signature-V3 for a form body POSTed to a URL
 * with a nonce. A test tool (not installed): plivo-sign URL NONCE < body;
 * the token comes from PLIVO_AUTH_TOKEN, never argv.
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
	const char *token = getenv("PLIVO_AUTH_TOKEN");
	struct buf in = { 0 };
	struct form f = { 0 };
	struct errbuf e;
	char chunk[4096], sig[45];
	size_t n;

	if (argc != 3 || !token) {
		fputs("usage: PLIVO_AUTH_TOKEN=... plivo-sign URL NONCE "
		    "< body\n", stderr);
		return 2;
	}
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&in, chunk, n);
	if (form_parse(&f, in.p ? in.p : "", in.len, &e) < 0) {
		fprintf(stderr, "plivo-sign: %s\n", e.msg);
		return 1;
	}
	if (plivo_signature(token, "POST", argv[1], argv[2], &f, sig) < 0) {
		perror("plivo-sign");
		return 1;
	}
	puts(sig);
	form_free(&f);
	buf_free(&in);
	return 0;
}
