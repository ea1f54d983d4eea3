/*
 * text.c: `sms-sim text`, a customer's text through a running sms-sim.
 *
 * Each --media FILE is uploaded first to URL/sim/media, its bytes as the
 * body with its type, and named by the SID the sim gives it. FROM, BODY
 * and those SIDs (MediaSid) are then posted to URL/sim/text, and the
 * message the sim stored is printed as JSON, or as a short line on a
 * terminal. A refusal is said in the sim's words if it is the sim's (a
 * Twilio error body), else as the webhook's status. With --whatsapp the
 * customer writes on WhatsApp: FROM goes as whatsapp:+E164, with the
 * --profile-name as ProfileName.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

#define MEDIA_FILE_MAX (64 * 1024 * 1024)	/* read of a --media FILE */

/* A --media FILE, with its --media-type and --media-fail. */
struct upload {
	const char *file, *type, *fail;
};

/* The content type of a file named name, by its extension. */
static const char *
type_of(const char *name)
{
	static const struct { const char *ext, *type; } t[] = {
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "png", "image/png" }, { "gif", "image/gif" },
		{ "webp", "image/webp" }, { "heic", "image/heic" },
		{ "bmp", "image/bmp" }, { "mp4", "video/mp4" },
		{ "3gp", "video/3gpp" }, { "amr", "audio/amr" },
		{ "pdf", "application/pdf" }, { "vcf", "text/vcard" },
		{ "txt", "text/plain" },
	};
	const char *dot = strrchr(name, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			if (strcasecmp(dot + 1, t[i].ext) == 0)
				return t[i].type;
	return "application/octet-stream";
}

/*
 * Upload the file of u to base/sim/media; its SID goes in sid. Returns
 * 0, or -1 having said why.
 */
static int
upload(CURL *h, const char *base, const struct upload *u, char sid[35])
{
	struct buf url = { 0 }, bytes = { 0 }, resp = { 0 };
	struct curl_slist *hs = NULL, *more;
	char err[CURL_ERROR_SIZE] = "", hdr[200], chunk[65536];
	const char *type = u->type ? u->type : type_of(u->file);
	const char *v;
	json_t *j = NULL;
	long http = 0;
	size_t n;
	FILE *fp;
	int ret = -1;

	if (!(fp = fopen(u->file, "rb"))) {
		diag_warn("text: --media %s: %s", u->file, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 &&
	    bytes.len + n <= MEDIA_FILE_MAX)
		buf_add(&bytes, chunk, n);
	if (ferror(fp) || n > 0) {
		diag_warn("text: --media %s: %s", u->file, ferror(fp) ?
		    strerror(errno) : "over 64 MiB");
		fclose(fp);
		goto out;
	}
	fclose(fp);
	buf_adds(&url, base);
	buf_addlit(&url, "/sim/media");
	if (u->fail) {
		buf_addlit(&url, "?fail=");
		buf_adds(&url, u->fail);
	}
	buf_addc(&url, '\0');
	snprintf(hdr, sizeof hdr, "Content-Type: %s", type);
	if (url.err || bytes.err || !(hs = curl_slist_append(NULL, hdr)) ||
	    !(more = curl_slist_append(hs, "Expect:"))) {
		diag_warn("text: --media %s: %s", u->file, strerror(ENOMEM));
		goto out;
	}
	hs = more;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, bytes.p ? bytes.p : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)bytes.len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_text);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS * 2);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_easy_perform(h) != CURLE_OK) {
		diag_warn("text: %s: %s", url.p, err);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	j = json_loadb(resp.p ? resp.p : "", resp.len, 0, NULL);
	if (http != 201 || !(v = json_string_value(json_object_get(j,
	    "sid"))) || strlen(v) != 34) {
		v = json_string_value(json_object_get(j, "message"));
		diag_warn("text: --media %s: %s: %ld %s", u->file, url.p,
		    http, v ? v : "(not the sim's answer)");
		goto out;
	}
	memcpy(sid, v, 35);
	ret = 0;
out:
	json_decref(j);
	curl_slist_free_all(hs);
	buf_free(&url);
	buf_free(&bytes);
	buf_free(&resp);
	return ret;
}

int
sim_text_main(int argc, char **argv)
{
	enum { OPT_URL = 256, OPT_MEDIA, OPT_MEDIA_TYPE, OPT_MEDIA_FAIL,
		OPT_PROFILE_NAME, OPT_WHATSAPP };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "media-fail", required_argument, NULL, OPT_MEDIA_FAIL },
		{ "media-type", required_argument, NULL, OPT_MEDIA_TYPE },
		{ "profile-name", required_argument, NULL, OPT_PROFILE_NAME },
		{ "url", required_argument, NULL, OPT_URL },
		{ "whatsapp", no_argument, NULL, OPT_WHATSAPP },
		{ NULL, 0, NULL, 0 },
	};
	struct upload media[MEDIA_PER_MSG];
	size_t nmedia = 0;
	char sid[35];
	enum media_fault fault;
	struct buf url = { 0 }, form = { 0 }, resp = { 0 };
	char from[PHONE_MAX], addr[sizeof WHATSAPP + PHONE_MAX];
	char err[CURL_ERROR_SIZE] = "";
	const char *base = NULL, *msg = NULL, *profile = NULL;
	int whatsapp = 0;
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
		case OPT_WHATSAPP:
			whatsapp = 1;
			break;
		case OPT_PROFILE_NAME:
			if (!*optarg || strlen(optarg) > 256 ||
			    strpbrk(optarg, "\r\n"))
				diag_die(EXIT_USAGE, "text: --profile-name: "
				    "one line of 1 to 256 bytes");
			profile = optarg;
			break;
		case OPT_MEDIA:
			if (nmedia == MEDIA_PER_MSG)
				diag_die(EXIT_USAGE, "text: --media: at most "
				    "%d", MEDIA_PER_MSG);
			media[nmedia++] = (struct upload){ .file = optarg };
			break;
		case OPT_MEDIA_TYPE:
			if (!nmedia)
				diag_die(EXIT_USAGE, "text: --media-type: "
				    "after a --media FILE");
			if (!strchr(optarg, '/') || strpbrk(optarg,
			    "\r\n") || strlen(optarg) > 100)
				diag_die(EXIT_USAGE, "text: --media-type: '%s' "
				    "is not a content type", optarg);
			media[nmedia - 1].type = optarg;
			break;
		case OPT_MEDIA_FAIL:
			if (!nmedia)
				diag_die(EXIT_USAGE, "text: --media-fail: "
				    "after a --media FILE");
			if (sim_media_fault(optarg, &fault) < 0)
				diag_die(EXIT_USAGE, "text: --media-fail: '%s' "
				    "is not 404, timeout, large or none",
				    optarg);
			media[nmedia - 1].fail = optarg;
			break;
		default:
			sim_usage(stderr, EXIT_USAGE);
		}
	}
	if (argc - optind != 2)
		sim_usage(stderr, EXIT_USAGE);
	if (whatsapp && nmedia > WA_MEDIA_PER_MSG)
		diag_die(EXIT_USAGE, "text: --whatsapp: one --media (a "
		    "WhatsApp message carries one medium)");
	if (profile && !whatsapp)
		diag_die(EXIT_USAGE, "text: --profile-name: with --whatsapp "
		    "(a profile is WhatsApp's)");
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
	buf_addc(&url, '\0');
	snprintf(addr, sizeof addr, "%s%s", whatsapp ? WHATSAPP : "", from);
	sim_add_params(&form, "From", addr);
	sim_add_params(&form, "Body", argv[optind + 1]);
	if (profile)
		sim_add_params(&form, "ProfileName", profile);
	if (url.err || form.err || curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    !(h = curl_easy_init()))
		diag_die(EXIT_IOERR, "text: %s", strerror(ENOMEM));
	/* The pictures first, then the text that carries them. */
	for (size_t i = 0; i < nmedia; i++) {
		if (upload(h, url.p, &media[i], sid) < 0) {
			ret = EXIT_DATAERR;
			goto done;
		}
		sim_add_params(&form, "MediaSid", sid);
	}
	url.len--;
	buf_adds(&url, "/sim/text");
	buf_addc(&url, '\0');
	if (url.err || form.err)
		diag_die(EXIT_IOERR, "text: %s", strerror(ENOMEM));
	curl_easy_reset(h);
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
