/*
 * telnyx.c: Telnyx's webhook, as sms-recv takes it.
 *
 * The input is a request body. It is signed as Telnyx signs (Ed25519 over
 * "timestamp|body", a key pair from a fixed seed), which
 * provider_telnyx.verify() must accept, and then goes through
 * provider_telnyx.parse(), the function that turns Telnyx's JSON into a
 * webhook_event. An event it accepts must be one sms-recv can store: an
 * id, a status, a body of its length without NULs, a sender and a
 * recipient for a message, at most PROVIDER_MEDIA_MAX media each with a
 * URL. Whatever parse() returns, provider_event_free() lets the event go.
 */
#include <errno.h>

#include <sodium.h>

#include "fuzz.h"
#include "provider.h"

#define TS "1795000000"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	static unsigned char sk[crypto_sign_SECRETKEYBYTES];
	static char key[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	unsigned char seed[crypto_sign_SEEDBYTES], sig[crypto_sign_BYTES];
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	struct webhook_request rq = {
		.method = "POST", .url = "https://desk.example.com/sms",
		.content_type = "application/json", .now = 1795000000,
	};
	struct webhook_event ev = { 0 };
	struct errbuf e;
	unsigned char *msg;

	if (!key[0]) {
		FUZZ_CHECK(sodium_init() >= 0, "libsodium");
		for (size_t i = 0; i < sizeof seed; i++)
			seed[i] = (unsigned char)i;
		crypto_sign_seed_keypair(pk, sk, seed);
		sodium_bin2base64(key, sizeof key, pk, sizeof pk,
		    sodium_base64_VARIANT_ORIGINAL);
	}
	if (!(msg = malloc(sizeof TS + size)))
		return 0;
	memcpy(msg, TS "|", sizeof TS);
	if (size)
		memcpy(msg + sizeof TS, data, size);
	crypto_sign_detached(sig, NULL, msg, sizeof TS + size, sk);
	free(msg);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	rq.body = (const char *)data;
	rq.body_len = size;
	rq.sig[0] = sig64;
	rq.sig[1] = TS;
	FUZZ_CHECK(provider_telnyx.verify(key, &rq, &e) == 0,
	    "its own signature refused: %s", e.msg);
	e.msg[0] = '\0';
	if (provider_telnyx.parse(&rq, &ev, &e) < 0) {
		FUZZ_CHECK(e.msg[0] && (errno == EINVAL || errno == ENOMEM),
		    "parse() failed without a reason");
		provider_event_free(&ev);
		return 0;
	}
	FUZZ_CHECK(ev.json != NULL, "an event without its parse tree");
	FUZZ_CHECK(ev.id && *ev.id, "no id");
	FUZZ_CHECK(ev.body && strlen(ev.body) == ev.body_len,
	    "a body with a NUL or of the wrong length");
	FUZZ_CHECK(ev.status && *ev.status, "no status");
	FUZZ_CHECK(ev.num_media >= 0 && ev.num_media <= PROVIDER_MEDIA_MAX,
	    "%d media", ev.num_media);
	for (int i = 0; i < ev.num_media; i++)
		FUZZ_CHECK(ev.media[i].url && *ev.media[i].url,
		    "media %d without a URL", i);
	FUZZ_CHECK(ev.num_segments >= 0 && ev.num_segments <= 9999,
	    "segments %d", ev.num_segments);
	if (ev.kind == WEBHOOK_MESSAGE)
		FUZZ_CHECK(ev.from && *ev.from && ev.to && *ev.to,
		    "a message without from or to");
	if (ev.error_code)
		(void)provider_telnyx.error_class(0, ev.error_code);
	(void)provider_status_order(ev.status);
	provider_event_free(&ev);
	FUZZ_CHECK(ev.json == NULL, "the parse tree kept");
	return 0;
}
