/*
 * config.c: the configuration parser, config_load(), smsdesk-config(5).
 *
 * The input is the file's contents, written to a file of mode 600 in a
 * private temporary directory (config_load() reads a path, and refuses a
 * file others may read). A file either loads, into keys of [a-z0-9_.] that
 * config_get() finds with their values, which written back as quoted
 * values load again to the same settings; or is refused with EINVAL (or
 * ENOMEM) and a message naming the file, the config left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fuzz.h"

static char dir[4096], path[4200];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* Write n bytes of p as the file at path; -1 if that fails. */
static int
put(const void *p, size_t n)
{
	ssize_t w = 0;
	int fd;

	/* A new file each time: a file truncated and rewritten is flushed
	 * to disk at close by ext4 (auto_da_alloc), 100 times slower. */
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (n)
		w = write(fd, p, n);
	close(fd);
	return n && w != (ssize_t)n ? -1 : 0;
}

static void
quote(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c, *d;
	struct errbuf e;
	struct buf b = { 0 };
	const char *key, *val, *v2;
	size_t i;

	if (!dir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof dir, "%s/smsdesk-fuzz-XXXXXX",
		    t && *t ? t : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror(dir);
			abort();
		}
		snprintf(path, sizeof path, "%s/config", dir);
		atexit(cleanup);
	}
	if (put(data, size) < 0 || (c = config_new()) == NULL)
		return 0;
	/* A key that is set before the load must survive a failed one. */
	e.msg[0] = '\0';
	if (config_load(c, path, &e) < 0) {
		FUZZ_CHECK(errno == EINVAL || errno == ENOMEM,
		    "config_load() failed with errno %d: %s", errno, e.msg);
		FUZZ_CHECK(strncmp(e.msg, path, strlen(path)) == 0,
		    "message without the path: %s", e.msg);
		FUZZ_CHECK(config_entry(c, 0, &key, &val) == 0,
		    "a failed load changed the config");
		config_free(c);
		return 0;
	}
	for (i = 0; config_entry(c, i, &key, &val); i++) {
		FUZZ_CHECK(*key && strspn(key, "abcdefghijklmnopqrstuvwxyz"
		    "0123456789_.") == strlen(key), "key \"%s\"", key);
		FUZZ_CHECK(config_get(c, key) == val, "config_get(\"%s\")",
		    key);
		buf_adds(&b, key);
		buf_addlit(&b, " = ");
		quote(&b, val);
		buf_addc(&b, '\n');
	}
	if (!b.err && put(b.p, b.len) == 0 && (d = config_new()) != NULL) {
		FUZZ_CHECK(config_load(d, path, &e) == 0,
		    "written back, refused: %s", e.msg);
		for (i = 0; config_entry(c, i, &key, &val); i++) {
			v2 = config_get(d, key);
			FUZZ_CHECK(v2 && strcmp(v2, val) == 0,
			    "\"%s\" reads back as \"%s\"", key, v2);
		}
		FUZZ_CHECK(config_entry(d, i, &key, &val) == 0,
		    "more keys written back");
		config_free(d);
	}
	buf_free(&b);
	config_free(c);
	return 0;
}
