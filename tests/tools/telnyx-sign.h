/*
 * telnyx-sign.h: Telnyx's webhook signature, for the test tools that post
 * Telnyx webhooks (telnyx-sign, hook): one copy of the signing, included
 * by each (the library only verifies).
 *
 * telnyx_keys() makes the Ed25519 key pair of a test seed, 64 hex digits;
 * telnyx_sign() signs "ts|body" as Telnyx does, the base64 signature in
 * b64 (the value of telnyx-signature-ed25519). Both return 0, or -1 (a
 * seed that is not 64 hex digits; libsodium that cannot start).
 */
#ifndef TELNYX_SIGN_H
#define TELNYX_SIGN_H

#include <string.h>

#include <sodium.h>

#include "buf.h"

#define TELNYX_SIG_B64 sodium_base64_ENCODED_LEN(crypto_sign_BYTES, \
	sodium_base64_VARIANT_ORIGINAL)

static int
telnyx_keys(const char *hex, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
    unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	size_t bin;

	if (sodium_init() < 0 || hex == NULL ||
	    strlen(hex) != 2 * sizeof seed ||
	    sodium_hex2bin(seed, sizeof seed, hex, strlen(hex), NULL, &bin,
	    NULL) < 0 || bin != sizeof seed)
		return -1;
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

static int
telnyx_sign(const unsigned char sk[crypto_sign_SECRETKEYBYTES],
    const char *ts, const char *body, size_t len, char b64[TELNYX_SIG_B64])
{
	unsigned char sig[crypto_sign_BYTES];
	struct buf msg = { 0 };

	buf_adds(&msg, ts);
	buf_addc(&msg, '|');
	buf_add(&msg, body, len);
	if (msg.err) {
		buf_free(&msg);
		return -1;
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.p,
	    msg.len, sk);
	sodium_bin2base64(b64, TELNYX_SIG_B64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	buf_free(&msg);
	return 0;
}

#endif
