/*
 * tests/unit/serve.c: the media we send (serve.h): the names serve/ may
 * hold, the types told from bytes, a file copied into media/ and linked
 * in serve/, opened until it expires, and swept after.
 *
 * The inbox is made in a fresh directory under $TMPDIR (or /tmp), removed
 * at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox.h"
#include "media.h"
#include "serve.h"
#include "tap.h"

static const char hex64[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
names(void)
{
	char n[200];
	time_t t = 0;

	snprintf(n, sizeof n, "1765000000-%s.jpg", hex64);
	ok(inbox_serve_name(n, &t) && t == 1765000000, "a link's name");
	snprintf(n, sizeof n, "0765000000-%s.jpg", hex64);
	ok(!inbox_serve_name(n, NULL), "a leading zero: no");
	snprintf(n, sizeof n, "1765000000-%.63s.jpg", hex64);
	ok(!inbox_serve_name(n, NULL), "a token one short: no");
	snprintf(n, sizeof n, "1765000000-%sa.jpg", hex64);
	ok(!inbox_serve_name(n, NULL), "a token one long: no");
	snprintf(n, sizeof n, "1765000000-%s.JPG", hex64);
	ok(!inbox_serve_name(n, NULL), "a capital in the extension: no");
	snprintf(n, sizeof n, "1765000000-%s.", hex64);
	ok(!inbox_serve_name(n, NULL), "no extension: no");
	snprintf(n, sizeof n, "1765000000-%s.jpg/..", hex64);
	ok(!inbox_serve_name(n, NULL), "a slash: no");
	ok(!inbox_serve_name("../config", NULL), "a path: no");
	ok(!inbox_serve_name("", NULL), "empty: no");
	snprintf(n, sizeof n, "99999999999999999999-%s.jpg", hex64);
	ok(!inbox_serve_name(n, NULL), "an expiry past 18 digits: no");
}

static void
sniff(void)
{
	is_str(media_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4),
	    "image/jpeg", "JPEG");
	is_str(media_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n",
	    8), "image/png", "PNG");
	is_str(media_sniff((const unsigned char *)"GIF89a", 6),
	    "image/gif", "GIF");
	is_str(media_sniff((const unsigned char *)"\0\0\0\x18" "ftypmp42",
	    12), "video/mp4", "MP4");
	is_str(media_sniff((const unsigned char *)"\0\0\0\x18" "ftyp3gp4",
	    12), "video/3gpp", "3GPP");
	is_str(media_sniff((const unsigned char *)"%PDF-1.7", 8),
	    "application/pdf", "PDF");
	is_str(media_sniff((const unsigned char *)"BEGIN:VCARD\r\n", 13),
	    "text/vcard", "vCard");
	is_str(media_sniff((const unsigned char *)"caf\xc3\xa9\n", 6),
	    "text/plain", "UTF-8 text");
	ok(media_sniff((const unsigned char *)"\0\1\2\3", 4) == NULL,
	    "binary: none");
	ok(media_sniff((const unsigned char *)"\xff\xfe", 2) == NULL,
	    "not UTF-8: none");
	{
		unsigned char w[MEDIA_SNIFF_BYTES];

		memset(w, 'a', sizeof w);
		w[sizeof w - 1] = 0xc3;
		is_str(media_sniff(w, sizeof w), "text/plain", "text whose "
		    "sniff window cuts a character: text");
		ok(media_sniff(w, sizeof w - 1 + 0) != NULL &&
		    media_sniff(w + 1, sizeof w - 1) == NULL, "a file that "
		    "ends in half a character: none");
	}
	is_str(media_ext(NULL), "bin", "no type: bin");
	is_str(media_ext("video/3gpp"), "3gp", "3GPP: 3gp");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], src[4200], cmd[8400], path[8400], id[MEDIA_ID_MAX];
	struct media_out m, m2;
	struct inbox ib;
	struct errbuf e;
	struct stat st;
	size_t gone;
	time_t exp;
	FILE *fp;
	int fd;

	names();
	sniff();

	snprintf(dir, sizeof dir, "%s/serve-unit.%ld",
	    tmp && *tmp ? tmp : "/tmp", (long)getpid());
	snprintf(src, sizeof src, "%s.png", dir);
	if (inbox_open(&ib, dir, 1, &e) < 0 || !(fp = fopen(src, "w")) ||
	    fputs("\x89PNG\r\n\x1a\nrest of it", fp) == EOF ||
	    fclose(fp) == EOF) {
		printf("Bail out! cannot make %s\n", dir);
		return 1;
	}
	ok(media_out_inspect(src, &m, &e) == 0 && m.size == 18 &&
	    strcmp(m.type, "image/png") == 0, "inspected: its size and type");
	inbox_new_id(&ib, id);
	ok(inbox_media_put(&ib, src, "+15551230001", id, 0, 2000000000, &m,
	    &e) == 0, "put: %s", e.msg);
	snprintf(path, sizeof path, "media/+15551230001/%s.0.png", id);
	is_str(m.file, path, "its file: ID.N.EXT");
	ok(inbox_serve_name(m.serve, &exp) && exp == 2000000000,
	    "its link: a serve/ name, the expiry given");
	ok(strlen(m.sha256) == 64 && strspn(m.sha256, "0123456789abcdef") ==
	    64, "its sha256, in hex");
	ok((fd = inbox_serve_open(&ib, m.serve, 1999999999, &st)) >= 0 &&
	    st.st_size == 18, "opened before it expires");
	if (fd >= 0)
		close(fd);
	ok(inbox_serve_open(&ib, m.serve, 2000000000, &st) < 0 &&
	    errno == ETIME, "refused once it has (ETIME)");
	ok(inbox_serve_open(&ib, "../msg", 0, &st) < 0 && errno == ENOENT,
	    "a name of another shape: ENOENT");
	ok(inbox_media_put(&ib, src, "+15551230001", id, 1, 1000, &m2,
	    &e) == 0, "another, expired at once");
	ok(inbox_serve_sweep(&ib, 1999999999, &gone, &e) == 0 && gone == 1,
	    "the sweep removes the expired one only");
	snprintf(path, sizeof path, "%s/serve/%s", dir, m.serve);
	ok(access(path, F_OK) == 0, "the live link stays");
	snprintf(path, sizeof path, "%s/%s", dir, m2.file);
	ok(access(path, F_OK) == 0, "the expired one's copy stays in media/");
	ok(media_out_inspect("/nonexistent/x.png", &m2, &e) < 0 &&
	    errno == ENOENT, "a file that is not there: ENOENT");
	inbox_close(&ib);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, src);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
