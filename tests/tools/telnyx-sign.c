/*
 * telnyx-sign: sign a webhook body as Telnyx does (Ed25519 over
 * "TIMESTAMP|body"). A test tool (not installed), with a key pair made
 * from a test seed given on the command line:
 *
 *	telnyx-sign SEED [TIMESTAMP] < body
 *		prints the two headers, "telnyx-signature-ed25519: ..." and
 *		"telnyx-timestamp: ..." (TIMESTAMP defaults to now);
 *	telnyx-sign --public SEED
 *		prints the public key, base64, for TELNYX_PUBLIC_KEY.
 *
 * SEED is 64 hex digits (32 bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "telnyx-sign.h"

static void
usage(void)
{
	fputs("usage: telnyx-sign SEED [TIMESTAMP] < body\n"
	    "       telnyx-sign --public SEED\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char b64[TELNYX_SIG_B64], ts[32];
	struct buf body = { 0 };
	char chunk[4096];
	size_t n;
	int pub = 0;

	if (argc >= 2 && strcmp(argv[1], "--public") == 0) {
		pub = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3 || (pub && argc != 2))
		usage();
	if (telnyx_keys(argv[1], pk, sk) < 0)
		usage();
	if (pub) {
		sodium_bin2base64(b64, sizeof b64, pk, sizeof pk,
		    sodium_base64_VARIANT_ORIGINAL);
		puts(b64);
		return 0;
	}
	if (argc == 3)
		snprintf(ts, sizeof ts, "%s", argv[2]);
	else
		snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&body, chunk, n);
	if (body.err || telnyx_sign(sk, ts, body.p ? body.p : "", body.len,
	    b64) < 0)
		return 1;
	printf("telnyx-signature-ed25519: %s\ntelnyx-timestamp: %s\n", b64,
	    ts);
	buf_free(&body);
	return 0;
}
