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

#include <sodium.h>

#include "buf.h"

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
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)], ts[32];
	const char *hex;
	struct buf msg = { 0 };
	char chunk[4096];
	size_t n, bin;
	int pub = 0;

	if (argc >= 2 && strcmp(argv[1], "--public") == 0) {
		pub = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3 || (pub && argc != 2))
		usage();
	hex = argv[1];
	if (sodium_init() < 0 || strlen(hex) != 2 * sizeof seed ||
	    sodium_hex2bin(seed, sizeof seed, hex, strlen(hex), NULL, &bin,
	    NULL) < 0 || bin != sizeof seed)
		usage();
	crypto_sign_seed_keypair(pk, sk, seed);
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
	buf_adds(&msg, ts);
	buf_addc(&msg, '|');
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&msg, chunk, n);
	if (msg.err)
		return 1;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.p,
	    msg.len, sk);
	sodium_bin2base64(b64, sizeof b64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	printf("telnyx-signature-ed25519: %s\ntelnyx-timestamp: %s\n", b64,
	    ts);
	buf_free(&msg);
	return 0;
}
