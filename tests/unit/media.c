/*
 * media.c: inbound media (media.h). Sniffing; then fetches over loopback
 * from two small libmicrohttpd servers (the provider's, with Basic auth,
 * and a "CDN" on another port it redirects to), into a real inbox: a
 * picture fetched, a redirect that keeps the credentials at home, 404,
 * too large, a timeout (a socket that never answers), a 500, and a
 * fetcher killed (SIGKILL) in the middle of the bytes, which leaves
 * nothing visible.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sodium.h>

#include "inbox.h"
#include "media.h"
#include "record.h"
#include "tap.h"

#define NUM "+15557650002"
#define USER "ACtest"
#define PASS "secret"

static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDRpicture";
static const unsigned char jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0cdn bytes";

static unsigned short port_a, port_b;
static atomic_int cdn_auth_seen, cdn_hits, stall_release, stall_calls;

/* Bytes of the stalled answer: 1000, then nothing until released. */
static ssize_t
stall_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos < 1000) {
		size_t n = 1000 - (size_t)pos < max ? 1000 - (size_t)pos : max;

		memset(buf, 'x', n);
		return (ssize_t)n;
	}
	for (int i = 0; i < 6000 && !atomic_load(&stall_release); i++)
		usleep(10000);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned code, const void *p, size_t n,
    const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n,
	    (void *)p, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* The provider: everything needs Basic auth USER:PASS. */
static enum MHD_Result
on_a(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	static char big[5000];
	struct MHD_Response *r;
	char *pass = NULL, *user, loc[128];
	enum MHD_Result rc;
	int authed;

	(void)cls, (void)method, (void)version, (void)data, (void)size;
	if (*ctx == NULL) {
		*ctx = conn;
		return MHD_YES;
	}
	user = MHD_basic_auth_get_username_password(conn, &pass);
	authed = user && pass && strcmp(user, USER) == 0 &&
	    strcmp(pass, PASS) == 0;
	MHD_free(user);
	MHD_free(pass);
	if (!authed)
		return answer(conn, 401, "no", 2, "text/plain");
	if (strcmp(url, "/ok.png") == 0)
		return answer(conn, 200, png, sizeof png - 1, "image/png");
	if (strcmp(url, "/red") == 0) {
		r = MHD_create_response_from_buffer(0, "",
		    MHD_RESPMEM_PERSISTENT);
		snprintf(loc, sizeof loc, "http://127.0.0.1:%u/cdn/pic",
		    port_b);
		MHD_add_response_header(r, "Location", loc);
		rc = MHD_queue_response(conn, 302, r);
		MHD_destroy_response(r);
		return rc;
	}
	if (strcmp(url, "/big") == 0) {
		memset(big, 'b', sizeof big);
		return answer(conn, 200, big, sizeof big, "image/jpeg");
	}
	if (strcmp(url, "/500") == 0)
		return answer(conn, 500, "oops", 4, "text/plain");
	if (strcmp(url, "/stall") == 0) {
		if (atomic_fetch_add(&stall_calls, 1) > 0)
			return answer(conn, 200, jpg, sizeof jpg - 1,
			    "image/jpeg");
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
		    stall_read, NULL, NULL);
		rc = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return rc;
	}
	return answer(conn, 404, "not found", 9, "text/plain");
}

/* The CDN, another port: no auth wanted, and it notes any it gets. */
static enum MHD_Result
on_b(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	(void)cls, (void)method, (void)version, (void)data, (void)size;
	(void)url;
	if (*ctx == NULL) {
		*ctx = conn;
		return MHD_YES;
	}
	atomic_fetch_add(&cdn_hits, 1);
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization"))
		atomic_store(&cdn_auth_seen, 1);
	return answer(conn, 200, jpg, sizeof jpg - 1, "image/jpeg");
}

static struct MHD_Daemon *
start(MHD_AccessHandlerCallback fn, unsigned short *port)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
	    0, NULL, NULL, fn, NULL,
	    MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){ .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, MHD_OPTION_END);
	const union MHD_DaemonInfo *i;

	if (!d || !(i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT))) {
		printf("Bail out! cannot start a server\n");
		exit(1);
	}
	*port = i->port;
	return d;
}

/* A socket that listens and never answers: its port. */
static unsigned short
silent(int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(*fd, 8) < 0 || getsockname(*fd, (struct sockaddr *)&sa,
	    &len) < 0) {
		printf("Bail out! cannot listen\n");
		exit(1);
	}
	return ntohs(sa.sin_port);
}

/* Files in dir (dot files left out), or -1 if it is not there. */
static int
nfiles(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_sniff(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *type, *ext;
	} v[] = {
		{ "\xff\xd8\xff\xdb", 4, "image/jpeg", "jpg" },
		{ "\x89PNG\r\n\x1a\n\0\0", 10, "image/png", "png" },
		{ "GIF89a\1\0", 8, "image/gif", "gif" },
		{ "GIF87a", 6, "image/gif", "gif" },
		{ "RIFF\0\0\0\0WEBPVP8 ", 16, "image/webp", "webp" },
		{ "\0\0\0\x18" "ftypheic\0\0\0\0", 16, "image/heic", "heic" },
		{ "\0\0\0\x18" "ftypmif1\0\0\0\0", 16, "image/heic", "heic" },
		{ "\0\0\0\x18" "ftypisom\0\0\0\0", 16, "video/mp4", "mp4" },
		{ "\0\0\0\x18" "ftypmp42\0\0\0\0", 16, "video/mp4", "mp4" },
		{ "\0\0\0\x14" "ftyp3gp4\0\0\0\0", 16, "video/3gpp", "3gp" },
		{ "\0\0\0\x14" "ftypM4A \0\0\0\0", 16, NULL, "bin" },
		{ "#!AMR\n<", 7, "audio/amr", "amr" },
		{ "OggS\0\2\0\0", 8, "audio/ogg", "ogg" },
		{ "ID3\4\0\0", 6, "audio/mpeg", "mp3" },
		{ "\xff\xfb\x90\x44", 4, "audio/mpeg", "mp3" },
		{ "\xff\xf3\x90\x44", 4, "audio/mpeg", "mp3" },
		{ "\xff\xf1\x50\x80", 4, NULL, "bin" },	/* ADTS AAC */
		{ "%PDF-1.7\n", 9, "application/pdf", "pdf" },
		{ "BEGIN:VCARD\r\nVERSION:3.0", 24, "text/vcard", "vcf" },
		{ "\xef\xbb\xbf\r\nbegin:vcard", 16, "text/vcard", "vcf" },
		{ "Meet at 5, caf\xc3\xa9\n", 17, "text/plain", "txt" },
		/* Cut only where the sniff's window is: a whole file. */
		{ "cut \xc3", 5, NULL, "bin" },
		{ "bell\a", 5, NULL, "bin" },
		{ "\0\1\2\3", 4, NULL, "bin" },
		{ "", 0, NULL, "bin" },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		const char *t = media_sniff((const unsigned char *)v[i].bytes,
		    v[i].n);

		ok(t == v[i].type || (t && v[i].type && strcmp(t, v[i].type)
		    == 0), "sniff %zu: %s", i, v[i].type ? v[i].type : "none");
		is_str(media_ext(t), v[i].ext, "its extension");
	}
	ok(!media_mismatch(NULL, "image/png"), "no content type: no mismatch");
	ok(!media_mismatch("image/png", "image/png"), "the same: none");
	ok(!media_mismatch("IMAGE/JPG; q=1", "image/jpeg"),
	    "case, parameters and the alias image/jpg: none");
	ok(!media_mismatch("text/x-vcard", "text/vcard"), "text/x-vcard");
	ok(media_mismatch("image/png", "image/jpeg"), "png said, jpeg is");
	ok(media_mismatch("image/png", NULL), "png said, nothing known is");
}

static json_t *
deliver(struct inbox *ib, const char *base, unsigned short silent_port)
{
	struct inbox_delivery d;
	struct errbuf e;
	char u[6][128];
	json_t *m, *out;

	snprintf(u[0], sizeof u[0], "%s/ok.png", base);
	snprintf(u[1], sizeof u[1], "%s/red", base);
	snprintf(u[2], sizeof u[2], "%s/missing", base);
	snprintf(u[3], sizeof u[3], "%s/big", base);
	snprintf(u[4], sizeof u[4], "http://127.0.0.1:%u/x", silent_port);
	snprintf(u[5], sizeof u[5], "%s/500", base);
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:["
	    "{s:s,s:s},{s:s,s:s},{s:s,s:n},{s:s,s:s},{s:s,s:n},{s:s,s:n}]}",
	    "type", "message", "thread", NUM, "direction", "in", "from", NUM,
	    "to", "+15550001111", "body", "pictures", "provider", "twilio",
	    "provider_id", "MM1", "at", "2026-12-01T10:00:00Z", "media",
	    "url", u[0], "content_type", "image/png",
	    "url", u[1], "content_type", "image/png",
	    "url", u[2], "content_type",
	    "url", u[3], "content_type", "image/jpeg",
	    "url", u[4], "content_type",
	    "url", u[5], "content_type");
	if (inbox_deliver(ib, m, 0, NULL, &d, &e) < 0) {
		printf("Bail out! deliver: %s\n", e.msg);
		exit(1);
	}
	out = json_incref(d.message);
	inbox_delivery_free(&d);
	json_decref(m);
	return out;
}

static const json_t *
item(const json_t *msg, size_t i)
{
	return json_array_get(json_object_get(msg, "media"), i);
}

static const char *
err_code(const json_t *msg, size_t i)
{
	return record_str(json_object_get(item(msg, i), "error"), "code");
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-media-XXXXXX", path[512], base[64];
	char mdir[600], tdir[600], file[1024];
	struct media_opts o = { .user = USER, .pass = PASS,
		.max_bytes = 1000, .timeout = 2 };
	struct MHD_Daemon *a, *b;
	struct inbox ib;
	struct errbuf e;
	struct stat st;
	json_t *msg, *m2;
	const char *id;
	size_t fetched = 0, failed = 0, removed = 0;
	unsigned char md[crypto_hash_sha256_BYTES];
	char hex[65];
	int sfd, status;
	time_t now = 1796119200;	/* 2026-12-01T10:00:00Z */
	pid_t pid;

	test_sniff();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || sodium_init() < 0 ||
	    !mkdtemp(dir))
		return 1;
	a = start(on_a, &port_a);
	b = start(on_b, &port_b);
	snprintf(base, sizeof base, "http://127.0.0.1:%u", port_a);
	o.auth_url = base;
	snprintf(path, sizeof path, "%s/inbox", dir);
	setenv("SMSDESK_NOW", "2026-12-01T10:00:00Z", 1);
	if (inbox_open(&ib, path, 1, &e) < 0) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	snprintf(mdir, sizeof mdir, "%s/media/%s", path, NUM);
	snprintf(tdir, sizeof tdir, "%s/tmp", path);
	ok(stat(mdir, &st) < 0 && nfiles(tdir) == 0 &&
	    stat(mdir, &st) < 0, "an inbox has media/, empty");
	msg = deliver(&ib, base, silent(&sfd));
	id = record_str(msg, "id");
	for (int i = 0; i < 6; i++)
		ok(media_due(item(msg, i), now), "item %d is due", i);

	ok(media_fetch_message(&ib, NUM, id, &o, now, &fetched, &failed,
	    &e) == 0, "the message's media fetched (%s)", e.msg);
	is_int(fetched, 2, "two fetched");
	is_int(failed, 4, "four failed");
	m2 = inbox_message(&ib, NUM, id, &e);
	ok(m2 != NULL, "the message read again");

	/* 0: the picture, with the provider's credentials. */
	snprintf(file, sizeof file, "media/%s/%s.0.png", NUM, id);
	is_str(record_str(item(m2, 0), "file"), file, "0: its file, MSG.0.png");
	is_int(json_integer_value(json_object_get(item(m2, 0), "size")),
	    (long long)sizeof png - 1, "0: its size");
	crypto_hash_sha256(md, png, sizeof png - 1);
	sodium_bin2hex(hex, sizeof hex, md, sizeof md);
	is_str(record_str(item(m2, 0), "sha256"), hex, "0: its SHA-256");
	is_str(record_str(item(m2, 0), "type"), "image/png", "0: sniffed png");
	ok(json_is_false(json_object_get(item(m2, 0), "mismatch")),
	    "0: no mismatch");
	is_str(record_str(item(m2, 0), "fetched_at"), "2026-12-01T10:00:00Z",
	    "0: fetched_at");
	snprintf(file, sizeof file, "%s/media/%s/%s.0.png", path, NUM, id);
	ok(stat(file, &st) == 0 && st.st_size == (off_t)sizeof png - 1 &&
	    (st.st_mode & 0777) == 0600, "0: the file is there, 0600");
	ok(!media_due(item(m2, 0), now + 86400), "0: never due again");

	/* 1: redirected to the CDN, the credentials kept at home. */
	is_str(record_str(item(m2, 1), "type"), "image/jpeg",
	    "1: the CDN's bytes, a jpeg");
	ok(json_is_true(json_object_get(item(m2, 1), "mismatch")),
	    "1: image/png said, image/jpeg came: mismatch, kept");
	ok(record_str(item(m2, 1), "file") &&
	    strstr(record_str(item(m2, 1), "file"), ".1.jpg"),
	    "1: named from the sniffed type (.jpg)");
	ok(atomic_load(&cdn_hits) == 1 && !atomic_load(&cdn_auth_seen),
	    "1: the CDN (another port) got no Authorization");
	{
		/* A URL of another host (forged, or from a stored record). */
		struct media_result r;
		char url[64];
		FILE *f = tmpfile();

		snprintf(url, sizeof url, "http://127.0.0.1:%u/cdn/pic",
		    port_b);
		ok(f && media_get(url, &o, fileno(f), &r) == 0,
		    "a URL of another host: fetched (%s)", r.message);
		ok(atomic_load(&cdn_hits) == 2 &&
		    !atomic_load(&cdn_auth_seen),
		    "and the credentials never went to it");
		if (f)
			fclose(f);
	}
	{
		/* The provider's media host, when not its API's (Plivo's):
		 * the credentials go there too. */
		struct media_result r;
		char url[64], mbase[64];
		FILE *f = tmpfile();

		snprintf(url, sizeof url, "http://127.0.0.1:%u/cdn/pic",
		    port_b);
		snprintf(mbase, sizeof mbase, "http://127.0.0.1:%u", port_b);
		o.media_url = mbase;
		ok(f && media_get(url, &o, fileno(f), &r) == 0,
		    "a URL of the media host: fetched (%s)", r.message);
		ok(atomic_load(&cdn_hits) == 3 &&
		    atomic_load(&cdn_auth_seen),
		    "with the credentials");
		o.media_url = NULL;
		atomic_store(&cdn_auth_seen, 0);
		if (f)
			fclose(f);
	}

	/* 2: 404, for good. */
	is_str(err_code(m2, 2), "not_found", "2: 404 is not_found");
	ok(json_is_null(json_object_get(item(m2, 2), "next_try")) &&
	    json_integer_value(json_object_get(item(m2, 2), "tries")) == 1,
	    "2: tries 1, next_try null");
	ok(!media_due(item(m2, 2), now + 86400 * 30), "2: never due again");
	ok(!json_object_get(item(m2, 2), "file"), "2: no file");

	/* 3: over the cap. */
	is_str(err_code(m2, 3), "too_large", "3: 5000 bytes over 1000: "
	    "too_large");
	ok(json_is_null(json_object_get(item(m2, 3), "next_try")),
	    "3: for good");

	/* 4: a server that never answers. */
	is_str(err_code(m2, 4), "timeout", "4: timeout");
	is_str(record_str(item(m2, 4), "next_try"), "2026-12-01T10:01:00Z",
	    "4: tried again a minute later");
	ok(!media_due(item(m2, 4), now + 59) && media_due(item(m2, 4),
	    now + 60), "4: due at next_try, not before");

	/* 5: a 500, transient. */
	is_str(err_code(m2, 5), "http_500", "5: http_500");
	ok(record_str(item(m2, 5), "next_try") != NULL, "5: to be tried again");
	ok(record_str(json_object_get(item(m2, 5), "error"), "message") !=
	    NULL, "5: with a message");

	is_int(nfiles(mdir), 2, "media/THREAD holds the two files");
	is_int(nfiles(tdir), 0, "tmp/ holds nothing");

	/* The next tries back off: 60, 120, 240 ... seconds. */
	fetched = failed = 0;
	ok(media_fetch_message(&ib, NUM, id, &o, now + 60, &fetched, &failed,
	    &e) == 0 && fetched == 0 && failed == 2,
	    "a minute later: only the two due tried again");
	json_decref(m2);
	m2 = inbox_message(&ib, NUM, id, &e);
	is_int(json_integer_value(json_object_get(item(m2, 5), "tries")), 2,
	    "5: tries 2");
	is_str(record_str(item(m2, 5), "next_try"), "2026-12-01T10:03:00Z",
	    "5: next_try 2 minutes after the second");
	json_decref(m2);

	/* kill -9 in the middle of the bytes: nothing visible. */
	{
		struct inbox_delivery d;
		char u[128];
		json_t *m, *m3;
		const char *id3;
		int seen = 0;

		snprintf(u, sizeof u, "%s/stall", base);
		m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s}]}",
		    "type", "message", "thread", NUM, "direction", "in",
		    "from", NUM, "to", "+15550001111", "body", "", "provider",
		    "twilio", "provider_id", "MM2", "at",
		    "2026-12-01T10:05:00Z", "media", "url", u);
		if (inbox_deliver(&ib, m, 0, NULL, &d, &e) < 0) {
			printf("Bail out! deliver: %s\n", e.msg);
			return 1;
		}
		m3 = json_incref(d.message);
		inbox_delivery_free(&d);
		json_decref(m);
		id3 = record_str(m3, "id");
		fflush(stdout);
		if ((pid = fork()) == 0) {
			media_fetch_message(&ib, NUM, id3, &o, now, NULL,
			    NULL, &e);
			_exit(0);
		}
		/* Wait (a deadline, not a delay) for bytes in tmp/. */
		for (int i = 0; i < 6000 && !seen; i++) {
			DIR *dd = opendir(tdir);
			struct dirent *de;

			while (dd && (de = readdir(dd)))
				if (de->d_name[0] != '.') {
					snprintf(file, sizeof file, "%s/%s",
					    tdir, de->d_name);
					seen = stat(file, &st) == 0 &&
					    st.st_size >= 1000;
				}
			if (dd)
				closedir(dd);
			if (!seen)
				usleep(10000);
		}
		ok(seen, "the fetcher has 1000 bytes in tmp/");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		atomic_store(&stall_release, 1);
		ok(WIFSIGNALED(status), "and is killed (SIGKILL)");
		m = inbox_message(&ib, NUM, id3, &e);
		ok(m && !json_object_get(item(m, 0), "file") &&
		    !json_object_get(item(m, 0), "error") &&
		    media_due(item(m, 0), now),
		    "the record is as it was: no file, no error, due");
		json_decref(m);
		is_int(nfiles(mdir), 2, "media/THREAD: nothing new");
		is_int(nfiles(tdir), 1, "tmp/: the debris only");
		/* Debris of a minute ago (the sweep takes what is older
		 * than its max_age). */
		utimensat(AT_FDCWD, file, (struct timespec[2]){
		    { .tv_sec = time(NULL) - 60 },
		    { .tv_sec = time(NULL) - 60 } }, 0);
		ok(inbox_sweep(&ib, 0, &removed, &e) == 0 && removed >= 1 &&
		    nfiles(tdir) == 0, "the sweep removes it");
		fetched = failed = 0;
		ok(media_fetch_message(&ib, NUM, id3, &o, now, &fetched,
		    &failed, &e) == 0 && fetched == 1 && failed == 0,
		    "fetched again, from the start");
		m = inbox_message(&ib, NUM, id3, &e);
		is_int(json_integer_value(json_object_get(item(m, 0), "size")),
		    (long long)sizeof jpg - 1, "whole this time");
		is_int(nfiles(mdir), 3, "media/THREAD: its file");
		json_decref(m);
		json_decref(m3);
	}

	json_decref(msg);
	inbox_close(&ib);
	close(sfd);
	MHD_stop_daemon(a);
	MHD_stop_daemon(b);
	if (getenv("KEEP"))
		return tap_done();
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
