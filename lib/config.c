/*
 * config.c: smsdesk-config(5) files, read whole or not at all.
 *
 * A load parses the file into a scratch config and merges it only when
 * every line was good, so a typo never leaves half a configuration in
 * force; the merge reserves its room first and so cannot fail midway. The
 * permission check is made on the descriptor that is then read (fstat),
 * not on the name, so the file cannot be swapped in between. A config is a
 * short array searched from the start: a few dozen keys, read once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "utf8.h"

struct kv {
	char *key;
	char *val;
};

struct config {
	struct kv *kv;
	size_t n, cap;
};

struct config *
config_new(void)
{
	return calloc(1, sizeof(struct config));
}

static void
clear(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].val);
	}
	free(c->kv);
	c->kv = NULL;
	c->n = c->cap = 0;
}

void
config_free(struct config *c)
{
	if (c) {
		clear(c);
		free(c);
	}
}

int
config_entry(const struct config *c, size_t i, const char **key,
    const char **val)
{
	if (!c || i >= c->n)
		return 0;
	*key = c->kv[i].key;
	*val = c->kv[i].val;
	return 1;
}

static struct kv *
find(const struct config *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0)
			return &c->kv[i];
	return NULL;
}

static int
reserve(struct config *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 16;
	struct kv *kv;

	if (c->n + more <= c->cap)
		return 0;
	while (cap < c->n + more)
		cap *= 2;
	if ((kv = realloc(c->kv, cap * sizeof *kv)) == NULL)
		return -1;
	c->kv = kv;
	c->cap = cap;
	return 0;
}

/* Store key = val in c, taking both; -1 (nothing taken) if out of memory. */
static int
set(struct config *c, char *key, char *val)
{
	struct kv *kv = find(c, key);

	if (kv) {
		free(kv->val);
		kv->val = val;
		free(key);
		return 0;
	}
	if (reserve(c, 1) < 0)
		return -1;
	c->kv[c->n].key = key;
	c->kv[c->n++].val = val;
	return 0;
}

static int
is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
is_key(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || ch == '.';
}

/* Say why a line is malformed; returns -1. */
static int
malformed(char why[128], const char *msg)
{
	snprintf(why, 128, "%s", msg);
	return -1;
}

/*
 * The text of the quoted value that starts at p (on the '"') and must end
 * at end, unescaped into a new string; NULL with why set if malformed.
 */
static char *
unquote(const char *p, const char *end, char why[128])
{
	char *out = malloc((size_t)(end - p)), *o = out;

	if (out == NULL)
		return NULL;
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\') {
			if (p + 1 == end || (p[1] != '"' && p[1] != '\\')) {
				malformed(why, "unknown escape in quoted value "
				    "(only \\\" and \\\\)");
				free(out);
				return NULL;
			}
			p++;
		}
		*o++ = *p;
	}
	if (p == end || p + 1 != end) {
		malformed(why, p == end ? "unterminated quoted value" :
		    "text after the closing quote");
		free(out);
		return NULL;
	}
	*o = '\0';
	return out;
}

/*
 * Parse one line (len bytes, newline included if any). Returns 1 with
 * *key and *val set (new strings), 0 for a blank or comment line, -1 with
 * why set (or why empty: out of memory).
 */
static int
parse_line(const char *line, size_t len, char **key, char **val,
    char why[128])
{
	const char *p = line, *end = line + len, *k;
	size_t klen;

	why[0] = '\0';
	if (memchr(line, '\0', len))
		return malformed(why, "NUL byte in line");
	if (utf8_valid_prefix(line, len) != len)
		return malformed(why, "invalid UTF-8");
	while (end > p && (is_ws(end[-1]) || end[-1] == '\n' ||
	    end[-1] == '\r'))
		end--;
	while (p < end && is_ws(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	for (k = p; p < end && is_key(*p); p++)
		;
	klen = (size_t)(p - k);
	if (p < end && !is_ws(*p) && *p != '=') {
		unsigned char c = (unsigned char)*p;

		if (c > ' ' && c < 0x7f)
			snprintf(why, 128, "invalid character '%c' in key "
			    "(keys are a-z, 0-9, '_' and '.')", c);
		else
			snprintf(why, 128, "invalid byte 0x%02x in key (keys "
			    "are a-z, 0-9, '_' and '.')", c);
		return -1;
	}
	while (p < end && is_ws(*p))
		p++;
	if (klen == 0 && p < end && *p == '=')
		return malformed(why, "missing key before '='");
	if (klen == 0 || p == end || *p != '=')
		return malformed(why, "expected 'key = value'");
	for (p++; p < end && is_ws(*p); p++)
		;
	if (p < end && *p == '"')
		*val = unquote(p, end, why);
	else
		*val = strndup(p, (size_t)(end - p));
	if (*val == NULL)
		return -1;
	if ((*key = strndup(k, klen)) == NULL) {
		free(*val);
		return -1;
	}
	return 1;
}

/* Parse every line of fp into c; -1 with errno and e set. */
static int
parse(struct config *c, FILE *fp, const char *path, struct errbuf *e)
{
	char *line = NULL, *key, *val, why[128];
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int r = 0, err = 0;

	while (r == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		r = parse_line(line, (size_t)len, &key, &val, why);
		if (r == 1 && set(c, key, val) < 0) {
			free(key);
			free(val);
			r = -1;
		} else if (r == 1) {
			r = 0;
		}
	}
	if (r == 0 && !feof(fp)) {
		err = errno;
		r = errf(e, "%s: %s", path, strerror(err));
	} else if (r < 0 && why[0]) {
		err = EINVAL;
		errf(e, "%s:%lu: %s", path, lineno, why);
	} else if (r < 0) {
		err = ENOMEM;
		errf(e, "%s: %s", path, strerror(err));
	}
	free(line);
	errno = err;
	return r;
}

/* Move every key of from into c, whose room was reserved: cannot fail. */
static void
merge(struct config *c, struct config *from)
{
	for (size_t i = 0; i < from->n; i++)
		set(c, from->kv[i].key, from->kv[i].val);
	from->n = 0;
}

/*
 * Open path for reading if it is a regular file that only its owner may
 * use, and its owner is the effective user or root, judged on the open
 * descriptor. Opening never blocks (a FIFO planted there is refused, not
 * waited on). NULL with errno and e set.
 */
static FILE *
open_private(const char *path, struct errbuf *e)
{
	struct stat st;
	FILE *fp;
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		err = errno;
		errf(e, "%s: %s", path, strerror(err));
		errno = err;
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		errf(e, "%s: %s", path, strerror(err));
	} else if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		errf(e, "%s: not a regular file", path);
	} else if (st.st_mode & 077) {
		err = EACCES;
		errf(e, "%s: readable by group or others; run chmod 600 %s",
		    path, path);
	} else if (st.st_uid != geteuid() && st.st_uid != 0) {
		err = EACCES;
		errf(e, "%s: owned by uid %lu, not by uid %lu that runs this; "
		    "refused", path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
	} else if (fcntl(fd, F_SETFL, 0) < 0 || (fp = fdopen(fd, "r")) == NULL) {
		err = errno;
		errf(e, "%s: %s", path, strerror(err));
	} else {
		return fp;
	}
	close(fd);
	errno = err;
	return NULL;
}

int
config_load(struct config *c, const char *path, struct errbuf *e)
{
	struct config tmp = { NULL, 0, 0 };
	FILE *fp;
	int r, err;

	if ((fp = open_private(path, e)) == NULL)
		return -1;
	r = parse(&tmp, fp, path, e);
	err = errno;
	fclose(fp);
	if (r == 0 && reserve(c, tmp.n) < 0) {
		err = ENOMEM;
		r = errf(e, "%s: %s", path, strerror(ENOMEM));
	}
	if (r == 0)
		merge(c, &tmp);
	clear(&tmp);
	errno = err;
	return r;
}

const char *
config_get(const struct config *c, const char *key)
{
	const struct kv *kv = c && key ? find(c, key) : NULL;

	return kv ? kv->val : NULL;
}

const char *
config_pick(const struct config *c, const char *flag, const char *env,
    const char *key, const char *def)
{
	const char *v;

	if (flag)
		return flag;
	if (env && (v = getenv(env)) != NULL && *v)
		return v;
	if ((v = config_get(c, key)) != NULL)
		return v;
	return def;
}

/* dir followed by tail, in a new string; NULL with errno ENOMEM. */
static char *
join(const char *dir, const char *tail)
{
	size_t n = strlen(dir) + strlen(tail) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", dir, tail);
	return s;
}

char *
config_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return join(xdg, "/smsdesk/config");
	if (home && *home)
		return join(home, "/.config/smsdesk/config");
	errno = ENOENT;
	return NULL;
}

int
config_load_default(struct config *c, const char *inbox_dir,
    struct errbuf *e)
{
	char *path = config_default_path();
	int r, err;

	if (path == NULL && errno == ENOMEM)
		return errf(e, "config: %s", strerror(ENOMEM));
	if (path) {
		r = config_load(c, path, e);
		err = errno;
		free(path);
		errno = err;
		if (r == 0 || err != ENOENT)
			return r;
	}
	if (inbox_dir == NULL)
		return 0;
	if ((path = join(inbox_dir, "/config")) == NULL)
		return errf(e, "%s/config: %s", inbox_dir, strerror(ENOMEM));
	r = config_load(c, path, e);
	err = errno;
	free(path);
	errno = err;
	return r < 0 && err == ENOENT ? 0 : r;
}
