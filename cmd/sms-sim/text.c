/*
 * text.c: `sms-sim text`, a customer's text through a running sms-sim.
 *
 * FROM and BODY are posted to URL/sim/text, and the message the sim
 * stored is printed as JSON, or as a short line on a terminal. A refusal
 * is said in the sim's words if it is the sim's (a Twilio error body),
 * else as the webhook's status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "phone.h"

#include "sms-sim/sim.h"

/*
 * What the sim stored (its answer, resp), as a line for a terminal:
 * "text SM... from +1555...: received (webhook 200)". Returns -1 if the
 * answer is not a message resource, to be shown as it came.
 */
static int
line(const struct buf *resp, long http)
{
	json_t *m = json_loadb(resp->p ? resp->p : "", resp->len, 0, NULL);
	const char *sid = json_string_value(json_object_get(m, "sid"));
	const char *from = json_string_value(json_object_get(m, "from"));
	const char *to = json_string_value(json_object_get(m, "to"));
	const char *st = json_string_value(json_object_get(m, "status"));

	if (!sid || !from || !to || !st) {
		json_decref(m);
		return -1;
	}
	printf("text %s from %s to %s: %s (webhook %ld)\n", sid, from, to,
	    st, http);
	json_decref(m);
	return 0;
}

static size_t
on_text(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) < 0 ? 0 : size * n;
}

int
sim_text_main(int argc, char **argv)
{
	enum { OPT_URL = 256 };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "url", required_argument, NULL, OPT_URL },
		{ NULL, 0, NULL, 0 },
	};
	struct buf url = { 0 }, form = { 0 }, resp = { 0 };
	char from[PHONE_MAX], err[CURL_ERROR_SIZE] = "";
	const char *base = NULL, *msg = NULL;
	struct curl_slist *hs = NULL;
	struct errbuf e;
	json_t *j = NULL;
	long http = 0;
	size_t n;
	CURL *h;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			sim_usage(stdout, 0);
			break;
		case OPT_URL:
			base = optarg;
			break;
		default:
			sim_usage(stderr, EXIT_USAGE);
		}
	}
	if (argc - optind != 2)
		sim_usage(stderr, EXIT_USAGE);
	if (phone_normalize(argv[optind], NULL, from, &e) < 0)
		diag_die(EXIT_USAGE, "text: FROM '%s': %s", argv[optind],
		    e.msg);
	if (!base && (base = getenv("SMSDESK_SIM_URL")) && !*base)
		base = NULL;
	if (!base)
		base = DEFAULT_SIM_URL;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	buf_add(&url, base, n);
	buf_adds(&url, "/sim/text");
	buf_addc(&url, '\0');
	sim_add_params(&form, "From", from);
	sim_add_params(&form, "Body", argv[optind + 1]);
	if (url.err || form.err || curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    !(h = curl_easy_init()))
		diag_die(EXIT_IOERR, "text: %s", strerror(ENOMEM));
	hs = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.p);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_text);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS * 2);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_easy_perform(h) != CURLE_OK) {
		diag_warn("text: %s: %s", url.p, err);
		ret = EXIT_TEMPFAIL;
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	if (http >= 200 && http < 300) {
		if (isatty(STDOUT_FILENO) && line(&resp, http) == 0) {
			ret = 0;
			goto done;
		}
		if (resp.len)
			fwrite(resp.p, 1, resp.len, stdout);
		putchar('\n');
		ret = 0;
		goto done;
	}
	/* The sim's own refusals are Twilio errors; else the webhook's. */
	if ((j = json_loadb(resp.p ? resp.p : "", resp.len, 0, NULL)) &&
	    json_object_get(j, "code"))
		msg = json_string_value(json_object_get(j, "message"));
	if (msg)
		diag_warn("text: %s: %ld %s", url.p, http, msg);
	else
		diag_warn("text: the webhook answered %ld", http);
	ret = http >= 500 ? EXIT_TEMPFAIL : EXIT_PARTIAL;
done:
	json_decref(j);
	curl_slist_free_all(hs);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	buf_free(&url);
	buf_free(&form);
	buf_free(&resp);
	return diag_close_stdout(ret);
}
