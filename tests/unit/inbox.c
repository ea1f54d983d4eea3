/*
 * inbox.c: delivery, dedupe, delivery reports, consent, updates, listing
 * (inbox_list() and the walk under it, inbox_each()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "record.h"
#include "tap.h"

static int reports;

static void
report(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	reports++;
}

static json_t *
inbound(const char *from, const char *sid, const char *body)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", from, "direction", "in", "from", from,
	    "to", "+15550001111", "body", body, "provider", "twilio",
	    "provider_id", sid);
}

static int
exists(struct inbox *ib, const char *rel)
{
	return faccessat(ib->fd, rel, F_OK, 0) == 0;
}

/* Whether inbox_outbox() lists the message id. */
static int
in_outbox(struct inbox *ib, const char *id)
{
	struct errbuf e;
	json_t *l = inbox_outbox(ib, &e), *m;
	size_t i;
	int found = 0;

	json_array_foreach(l, i, m)
		found |= record_str(m, "id") && strcmp(record_str(m, "id"),
		    id) == 0;
	json_decref(l);
	return found;
}

/*
 * The index file of ledger key (smsdesk-inbox(5), Ledgers): ids/XX, XX
 * the low byte of the key's FNV-1a hash.
 */
static void
bucket_of(const char *key, char rel[16])
{
	unsigned h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	snprintf(rel, 16, "ids/%02x", h & 255);
}

static int
resolve(json_t *conv, void *arg, struct errbuf *e)
{
	(void)arg;
	(void)e;
	json_object_set_new(conv, "status", json_string(INBOX_RESOLVED));
	return 0;
}

static int
unchanged(json_t *conv, void *arg, struct errbuf *e)
{
	(void)conv;
	(void)arg;
	(void)e;
	return 1;
}

static int
assign_quote(json_t *conv, void *arg, struct errbuf *e)
{
	(void)arg;
	(void)e;
	json_object_set_new(conv, "assignee", json_string("a\"b"));
	return 0;
}

/* What inbox_each() handed over, copied. */
struct seen {
	size_t n, stop;
	struct {
		char *line, *thread, *status, *assignee, *waiting, *last_in;
		long long unread;
	} c[8];
};

static char *
copy(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
see(const struct inbox_conv *c, void *arg)
{
	struct seen *s = arg;
	size_t i;

	if (s->n == 8)
		return -1;
	/* Sorted by thread as they come: the walk's order is its own. */
	for (i = s->n; i > 0 && strcmp(s->c[i - 1].thread, c->thread) > 0;
	    i--)
		s->c[i] = s->c[i - 1];
	s->c[i].line = strndup(c->line, c->len);
	s->c[i].thread = copy(c->thread);
	s->c[i].status = copy(c->status);
	s->c[i].assignee = copy(c->assignee);
	s->c[i].waiting = copy(c->waiting_since);
	s->c[i].last_in = copy(c->last_in_at);
	s->c[i].unread = c->unread;
	s->n++;
	return s->stop && s->n == s->stop ? 7 : 0;
}

static void
seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->c[i].line);
		free(s->c[i].thread);
		free(s->c[i].status);
		free(s->c[i].assignee);
		free(s->c[i].waiting);
		free(s->c[i].last_in);
	}
	memset(s, 0, sizeof *s);
}

/* The file at rel, without its newline (static). */
static const char *
slurp(struct inbox *ib, const char *rel)
{
	static char buf[8192];
	int fd = openat(ib->fd, rel, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	char *last;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n - 1 : 0] = '\0';
	/* A conversation file's record is its last line. */
	return (last = strrchr(buf, '\n')) ? last + 1 : buf;
}

static void
put_file(struct inbox *ib, const char *rel, const char *s)
{
	int fd = openat(ib->fd, rel, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("# %s: cannot write\n", rel);
	if (fd >= 0)
		close(fd);
}

static void
test_each(void)
{
	char dir[] = "/tmp/smsdesk-each-XXXXXX", cmd[64];
	struct inbox ib;
	struct inbox_delivery d;
	struct seen s = { 0 };
	struct errbuf e;
	json_t *m;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0) {
		ok(0, "an inbox for inbox_each()");
		return;
	}
	ib.report = report;
	m = inbound("+15551110001", "SMe1", "say \"hi\"\nthere");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	m = inbound("+15551110002", "SMe2", "x");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	inbox_update(&ib, "+15551110002", assign_quote, NULL, NULL, &e);
	/* By hand: spaces, an escape jansson would not write, a real. */
	put_file(&ib, "conv/+15551110003", "{\"type\": \"conversation\", "
	    "\"thread\":\"+15551110003\",\"status\":\"open\",\"assignee\":"
	    "\"\\u0061na\",\"unread\":3,\"score\":1.5}\n");
	put_file(&ib, "work/+15551110003", "");

	is_int(inbox_each(&ib, 0, see, &s, &e), 0, "inbox_each() walks");
	is_int(s.n, 3, "the working set, each once");
	is_str(s.c[0].line, slurp(&ib, "conv/+15551110001"),
	    "a record as the library writes it: its line as stored");
	is_str(s.c[0].thread, "+15551110001", "its thread");
	is_str(s.c[0].status, "open", "its status");
	ok(!s.c[0].assignee, "no assignee: NULL");
	is_int(s.c[0].unread, 1, "unread");
	ok(s.c[0].waiting && s.c[0].last_in &&
	    strcmp(s.c[0].waiting, s.c[0].last_in) == 0, "times: %s",
	    s.c[0].waiting ? s.c[0].waiting : "(null)");
	is_str(s.c[1].assignee, "a\"b", "a string with an escape, decoded");
	is_str(s.c[1].line, slurp(&ib, "conv/+15551110002"),
	    "and its line as stored");
	is_str(s.c[2].line, "{\"type\":\"conversation\",\"thread\":"
	    "\"+15551110003\",\"status\":\"open\",\"assignee\":\"ana\","
	    "\"unread\":3,\"score\":1.5}",
	    "a record written otherwise: its line as jansson writes it");
	is_str(s.c[2].assignee, "ana", "its fields from jansson");
	is_int(s.c[2].unread, 3, "unread too");
	ok(!s.c[2].waiting, "a field it lacks: NULL");
	seen_free(&s);

	s.stop = 2;
	is_int(inbox_each(&ib, 0, see, &s, &e), 7,
	    "a callback that says stop ends the walk, its value returned");
	is_int(s.n, 2, "after two");
	seen_free(&s);

	/* A conversation that cannot be read is reported, the rest listed. */
	mkdirat(ib.fd, "conv/+15551110004", 0700);
	put_file(&ib, "work/+15551110004", "");
	reports = 0;
	is_int(inbox_each(&ib, 0, see, &s, &e), 0, "an unreadable one does "
	    "not stop the walk");
	is_int(s.n * 10 + (size_t)reports, 31, "the rest listed, it reported");
	seen_free(&s);

	inbox_update(&ib, "+15551110001", resolve, NULL, NULL, &e);
	reports = 0;
	inbox_each(&ib, 0, see, &s, &e);
	is_int(s.n, 2, "a resolved one leaves the working set");
	seen_free(&s);
	inbox_each(&ib, 1, see, &s, &e);
	is_int(s.n, 3, "and is walked with all");
	is_str(s.c[0].status, "resolved", "as resolved");
	seen_free(&s);

	inbox_close(&ib);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# %s: not removed\n", dir);
}

/* A delivery that never ends: said, and the test ends. */
static void
hung(int sig)
{
	static const char say[] = "not ok - hung: a lock waits for "
	    "itself\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, say, sizeof say - 1);
	_exit(1);
}

/* The lines of the file rel of the inbox that are exactly line. */
static int
count_lines(struct inbox *ib, const char *rel, const char *line)
{
	char buf[1024];
	int fd = openat(ib->fd, rel, O_RDONLY), n = 0;
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;

	while (fp && fgets(buf, sizeof buf, fp)) {
		buf[strcspn(buf, "\n")] = '\0';
		n += strcmp(buf, line) == 0;
	}
	if (fp)
		fclose(fp);
	return n;
}

static void
append(struct inbox *ib, const char *rel, const char *text)
{
	int fd = openat(ib->fd, rel, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot append to %s\n", rel);
	if (fd >= 0)
		close(fd);
}

/*
 * The ledgers (smsdesk-inbox(5), Ledgers): an inbox made by an older
 * version has a link per entry, ids/KEY and outbox/ID, and loses nothing
 * by the upgrade: its ids still dedupe and take delivery reports, its
 * keys still stop a resend, its outbox is still reconciled. The files of
 * today's ledgers: a torn tail, a planted one, compaction.
 */
static void
test_ledgers(void)
{
	char dir[] = "/tmp/smsdesk-ledger-XXXXXX", path[512], rel[600];
	char to[700], id[256], id2[256];
	struct inbox ib;
	struct inbox_delivery d;
	struct errbuf e;
	struct stat st;
	json_t *m, *c, *l;
	int i, n;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof path, "%s/inbox", dir);
	if (inbox_open(&ib, path, 1, &e) < 0)
		return;
	ib.report = report;

	/* An older inbox: a message in, its id a link; one out, queued,
	 * its key and its outbox entry links. */
	m = inbound("+15551230001", "SMold", "from before");
	json_object_set_new(m, "id", json_string("old-in"));
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "id", "old-out", "thread", "+15551230001", "direction", "out",
	    "body", "queued before", "status", "queued", "key", "k-old");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	bucket_of("twilio-SMold", rel);
	unlinkat(ib.fd, rel, 0);
	bucket_of("key-k-old", rel);
	unlinkat(ib.fd, rel, 0);
	unlinkat(ib.fd, "outbox/.log", 0);
	ok(!inbox_known_id(&ib, "twilio", "SMold") &&
	    !in_outbox(&ib, "old-out"), "the new ledgers taken away");
	symlinkat("../msg/+15551230001/old-in", ib.fd, "ids/twilio-SMold");
	symlinkat("../msg/+15551230001/old-out", ib.fd, "ids/key-k-old");
	symlinkat("../msg/+15551230001/old-out", ib.fd, "outbox/old-out");

	is_int(inbox_known_id(&ib, "twilio", "SMold"), 1,
	    "an older inbox: its id link is in the ledger");
	m = inbound("+15551230001", "SMold", "from before");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	ok(d.duplicate, "a provider's retry of it is a duplicate");
	inbox_delivery_free(&d);
	json_decref(m);
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "+15551230001", "direction", "out", "body",
	    "queued before", "status", "queued", "key", "k-old");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	ok(d.duplicate && strcmp(record_str(d.message, "id"), "old-out") == 0,
	    "its client key link stops a second send");
	inbox_delivery_free(&d);
	json_decref(m);
	l = inbox_outbox(&ib, &e);
	is_int(json_array_size(l), 1, "its outbox link is reconciled");
	is_str(record_str(json_array_get(l, 0), "id"), "old-out",
	    "the message it names");
	json_decref(l);
	is_int(inbox_sent(&ib, "+15551230001", "old-out", "twilio", "SMold2",
	    "sent", NULL, &c, &e), 0, "answered");
	json_decref(c);
	is_int(inbox_status(&ib, "twilio", "SMold2", "delivered", NULL, &c,
	    &e), 1, "a report for its new id applies");
	json_decref(c);
	ok(!in_outbox(&ib, "old-out") && faccessat(ib.fd, "outbox/old-out",
	    F_OK, AT_SYMLINK_NOFOLLOW) < 0, "settled: out of the outbox, its "
	    "link gone");
	/* The link of an older inbox's id takes a report too. */
	m = inbound("+15551230001", "SMold3", "x");
	json_object_set_new(m, "direction", json_string("out"));
	json_object_set_new(m, "status", json_string("sent"));
	json_object_set_new(m, "id", json_string("old-3"));
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	bucket_of("twilio-SMold3", rel);
	unlinkat(ib.fd, rel, 0);
	symlinkat("../msg/+15551230001/old-3", ib.fd, "ids/twilio-SMold3");
	is_int(inbox_status(&ib, "twilio", "SMold3", "delivered", NULL, &c,
	    &e), 1, "a report for an id of an older inbox applies");
	is_str(record_str(c, "status"), "delivered", "to its message");
	json_decref(c);

	/*
	 * A sender's thread ("@VERIFY") whose name hashes as the key of
	 * its message's provider id: the thread's lock and the key's are
	 * two, or the delivery waits for itself. An id is looked for that
	 * falls in the thread's bucket.
	 */
	{
		char tb[16], kb[16], key[64], pid[32];

		bucket_of("@VERIFY", tb);
		for (i = 0; i < 100000; i++) {
			snprintf(pid, sizeof pid, "SMv%d", i);
			snprintf(key, sizeof key, "twilio-%s", pid);
			bucket_of(key, kb);
			if (strcmp(tb, kb) == 0)
				break;
		}
		m = inbound("@VERIFY", pid, "Your code is 123456");
		signal(SIGALRM, hung);
		alarm(30);
		is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "a sender's "
		    "thread and its id's key in one bucket: delivered (%s)",
		    pid);
		alarm(0);
		inbox_delivery_free(&d);
		json_decref(m);
		is_int(inbox_known_id(&ib, "twilio", pid), 1, "and keyed");
	}

	/* A torn tail (a crash mid-append) is cut by the next writer. */
	bucket_of("twilio-SMt1", rel);
	append(&ib, rel, "twilio-SMt1 +1555123");
	m = inbound("+15551230002", "SMt1", "torn");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	snprintf(to, sizeof to, "twilio-SMt1 +15551230002/%s",
	    record_str(d.message, "id"));
	ok(!d.duplicate && count_lines(&ib, rel, to) == 1,
	    "a torn line is no entry, and is cut off before the next");
	inbox_delivery_free(&d);
	json_decref(m);
	is_int(count_lines(&ib, rel, "twilio-SMt1 +1555123"), 0, "cut");

	/* A bucket planted as a FIFO or a link: moved aside, never read. */
	bucket_of("twilio-SMp1", rel);
	unlinkat(ib.fd, rel, 0);
	mkfifoat(ib.fd, rel, 0600);
	is_int(inbox_known_id(&ib, "twilio", "SMp1"), 0, "a FIFO in place of "
	    "a bucket is not read (nor waited on)");
	m = inbound("+15551230002", "SMp1", "fifo");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "a delivery goes on");
	inbox_delivery_free(&d);
	json_decref(m);
	ok(fstatat(ib.fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && inbox_known_id(&ib, "twilio", "SMp1") == 1,
	    "the FIFO moved aside, the bucket made, the id in it");
	unlinkat(ib.fd, "outbox/.log", 0);
	snprintf(path, sizeof path, "%s/outside", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	symlinkat(path, ib.fd, "outbox/.log");
	m = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "message", "thread",
	    "+15551230003", "direction", "out", "body", "x", "status",
	    "queued");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0,
	    "a link in place of the outbox log: a send goes on");
	snprintf(id, sizeof id, "%s", record_str(d.message, "id"));
	inbox_delivery_free(&d);
	json_decref(m);
	stat(path, &st);
	ok(st.st_size == 0 && in_outbox(&ib, id), "nothing written through "
	    "it; the message in a new log");

	/* Compaction: settled entries go, pending ones stay. */
	for (i = 0; i < 800; i++) {
		m = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "message",
		    "thread", "+15551230004", "direction", "out", "body", "x",
		    "status", "queued");
		inbox_deliver(&ib, m, 0, NULL, &d, &e);
		if (i == 400)
			snprintf(id2, sizeof id2, "%s",
			    record_str(d.message, "id"));
		else
			inbox_sent(&ib, "+15551230004", record_str(d.message,
			    "id"), "twilio", NULL, "failed", NULL, NULL, &e);
		inbox_delivery_free(&d);
		json_decref(m);
	}
	fstatat(ib.fd, "outbox/.log", &st, 0);
	l = inbox_outbox(&ib, &e);
	n = (int)json_array_size(l);
	json_decref(l);
	ok(st.st_size < 64 * 1024, "1,600 lines compacted (%lld bytes)",
	    (long long)st.st_size);
	ok(n == 2 && in_outbox(&ib, id) && in_outbox(&ib, id2),
	    "the two pending messages are still in the outbox (%d)", n);

	inbox_close(&ib);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		printf("# cannot remove %s\n", dir);
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-inbox-XXXXXX", path[512];
	struct inbox ib;
	struct inbox_delivery d;
	struct errbuf e;
	struct stat st;
	json_t *m, *c, *l, *t;
	size_t removed;
	int fd;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/inbox", dir);
	is_int(inbox_open(&ib, path, 0, &e), -1, "a missing inbox is refused");
	ok(strstr(e.msg, "no inbox") != NULL, "and named: %s", e.msg);
	inbox_close(&ib);
	is_int(inbox_open(&ib, path, 1, &e), 0, "created on demand");
	ib.report = report;

	/* queue/: a name from none is made, whatever errno said before. */
	errno = EEXIST;
	is_int(ib_queue_enter(&ib, "", "w,2026-01-01T00:00:00Z,+15550000001",
	    0), 0, "a queue/ name from none");
	ok(exists(&ib, "queue/w,2026-01-01T00:00:00Z,+15550000001"),
	    "is made, though errno was EEXIST before the call");
	ib_queue_leave(&ib, "w,2026-01-01T00:00:00Z,+15550000001", "");
	ok(!exists(&ib, "queue/w,2026-01-01T00:00:00Z,+15550000001"),
	    "and is removed when it leaves");
	stat(path, &st);
	is_int(st.st_mode & 0777, 0700, "inbox is 0700");

	m = inbound("+15551234567", "SM1", "Hello");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "delivered");
	ok(!d.duplicate, "first time is not a duplicate");
	ok(record_str(d.message, "id") != NULL, "an id was given");
	is_str(record_str(d.conversation, "status"), "open", "conv is open");
	is_int(json_integer_value(json_object_get(d.conversation, "unread")),
	    1, "one unread");
	ok(json_is_string(json_object_get(d.conversation, "waiting_since")),
	    "the SLA clock runs");
	ok(exists(&ib, "work/+15551234567"), "in the working set");
	is_int(inbox_known_id(&ib, "twilio", "SM1"), 1, "in the id ledger");
	snprintf(path, sizeof path, "msg/+15551234567/%s",
	    record_str(d.message, "id"));
	fstatat(ib.fd, path, &st, 0);
	is_int(st.st_mode & 0777, 0600, "message file is 0600");
	inbox_delivery_free(&d);
	json_decref(m);

	/* An id that is no string is no file name: refused, not "(null)". */
	m = inbound("+15551234568", "SMid", "Hello");
	json_object_set_new(m, "id", json_integer(5));
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), -1,
	    "an id that is a number is refused");
	is_int(errno, EINVAL, "as bad data: %s", e.msg);
	ok(inbox_known_id(&ib, "twilio", "SMid") == 0 &&
	    !exists(&ib, "msg/+15551234568/(null)"), "and nothing is kept");
	json_decref(m);

	m = inbound("+15551234567", "SM1", "Hello");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "replayed");
	ok(d.duplicate, "a replay is a duplicate");
	inbox_delivery_free(&d);
	json_decref(m);
	t = inbox_thread(&ib, "+15551234567", &e);
	is_int(json_array_size(t), 1, "one message in the thread");
	json_decref(t);

	/* A crash after storing but before the ledger: the retry stores a
	 * second copy, and readers fold it. */
	bucket_of("twilio-SM1", path);
	unlinkat(ib.fd, path, 0);
	m = inbound("+15551234567", "SM1", "Hello");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	t = inbox_thread(&ib, "+15551234567", &e);
	is_int(json_array_size(t), 1, "a stored-twice message is shown once");
	json_decref(t);

	/* Outbound, then delivery reports out of order. */
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "+15551234567", "direction", "out", "body", "Hi!",
	    "status", "queued", "provider", "twilio", "provider_id", "SM2");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "outbound stored");
	ok(json_is_null(json_object_get(d.conversation, "waiting_since")),
	    "a reply stops the SLA clock");
	ok(json_is_string(json_object_get(d.conversation,
	    "first_response_at")), "first response time set");
	inbox_delivery_free(&d);
	json_decref(m);
	if (!ok(inbox_status(&ib, "twilio", "SM2", "delivered", NULL, &m,
	    &e) == 1, "delivered applies"))
		printf("# %s\n", e.msg);
	is_str(record_str(m, "status"), "delivered", "status delivered");
	json_decref(m);
	is_int(inbox_status(&ib, "twilio", "SM2", "sent", NULL, &m, &e), 0,
	    "a late 'sent' does not go back");
	is_int(inbox_status(&ib, "twilio", "SM2", "delivered", NULL, &m, &e),
	    0, "a repeated report is old news");
	is_int(inbox_status(&ib, "twilio", "SM9", "sent", NULL, &m, &e), 2,
	    "a report for an unknown message is parked");
	ok(exists(&ib, "status/twilio-SM9"), "in status/");
	is_int(inbox_status(&ib, "twilio", "SM9", "undelivered", "30003", &m,
	    &e), 2, "a later report replaces the parked one");
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "+15551234567", "direction", "out", "body", "Hey",
	    "status", "queued", "provider", "twilio", "provider_id", "SM9");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	is_str(record_str(d.message, "status"), "undelivered",
	    "a parked report applies when the message arrives");
	is_int((int)json_integer_value(json_object_get(json_object_get(
	    d.message, "error"), "provider_code")), 30003,
	    "with its error code");
	is_str(record_str(json_object_get(d.message, "error"), "code"),
	    "transient", "classed in the taxonomy (30003: unreachable)");
	ok(!exists(&ib, "status/twilio-SM9"), "and leaves status/");
	inbox_delivery_free(&d);
	json_decref(m);

	/* Sending: queued with a client key, then settled. */
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "+15551234567", "direction", "out", "body", "On its way",
	    "status", "queued", "key", "order-1042");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "queued for sending");
	snprintf(path, sizeof path, "%s", record_str(d.message, "id"));
	ok(in_outbox(&ib, path), "in outbox/ until settled");
	is_int(inbox_known_id(&ib, "key", "order-1042"), 1,
	    "its client key is recorded");
	l = inbox_outbox(&ib, &e);
	is_int(json_array_size(l), 1, "inbox_outbox lists it");
	json_decref(l);
	{
		json_t *again = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type",
		    "message", "thread", "+15551234567", "direction", "out",
		    "body", "On its way", "status", "queued", "key",
		    "order-1042");
		struct inbox_delivery d2;

		inbox_deliver(&ib, again, 0, NULL, &d2, &e);
		ok(d2.duplicate, "the same client key again is a duplicate");
		inbox_delivery_free(&d2);
		json_decref(again);
	}
	is_int(inbox_status(&ib, "twilio", "SM77", "delivered", NULL, NULL,
	    &e), 2, "a report before the id is known is parked");
	/* A planted ledger entry for the id it is given: replaced. */
	fd = openat(ib.fd, "ids/twilio-SM77", O_WRONLY | O_CREAT, 0600);
	close(fd);
	errno = 0;
	is_int(inbox_sent(&ib, "+15551234567", record_str(d.message, "id"),
	    "twilio", "SM77", "sent; x", NULL, &c, &e), -1,
	    "a status that is not a word is refused, as a report's is");
	is_int(errno, EINVAL, "as bad data");
	is_int(inbox_sent(&ib, "+15551234567", record_str(d.message, "id"),
	    "twilio", "SM77", "sent", NULL, &c, &e), 0, "settled");
	is_str(record_str(c, "status"), "delivered",
	    "the parked report wins over 'sent'");
	is_str(record_str(c, "provider_id"), "SM77", "provider id kept");
	json_decref(c);
	ok(!in_outbox(&ib, path), "out of outbox/");
	ok(inbox_known_id(&ib, "twilio", "SM77") == 1 &&
	    !exists(&ib, "ids/twilio-SM77"), "and in the id ledger");
	is_int(inbox_known_id(&ib, "twilio", "SM77"), 1,
	    "as a link to it, what was planted there moved aside");
	inbox_delivery_free(&d);
	json_decref(m);

	/* Consent. */
	is_int(inbox_opted_out(&ib, "+15557654321", &e), 0, "nobody opted out");
	m = inbound("+15557654321", "SM3", "STOP");
	is_int(inbox_deliver(&ib, m, 'o', "STOP", &d, &e), 0, "STOP stored");
	inbox_delivery_free(&d);
	json_decref(m);
	is_int(inbox_opted_out(&ib, "+15557654321", &e), 1, "opted out");
	sleep(0);
	m = inbound("+15557654321", "SM4", "start");
	inbox_deliver(&ib, m, 'i', "START", &d, &e);
	inbox_delivery_free(&d);
	json_decref(m);
	is_int(inbox_opted_out(&ib, "+15557654321", &e), 0, "START opts in");
	c = inbox_consent_state(&ib, "+15557654321", &e);
	is_str(record_str(c, "keyword"), "START", "the newest record decides");
	is_str(record_str(c, "state"), "in", "and says in");
	json_decref(c);
	ok(!inbox_consent_state(&ib, "+15551234567", &e) && errno == ENOENT,
	    "no record: none, ENOENT");
	l = inbox_consent_list(&ib, "+15557654321", 0, &e);
	is_int(json_array_size(l), 2, "a number's records, both");
	is_str(record_str(json_array_get(l, 0), "keyword"), "STOP",
	    "oldest first");
	json_decref(l);
	l = inbox_consent_list(&ib, NULL, 1, &e);
	is_int(json_array_size(l), 1, "the ledger: each number's newest");
	is_str(record_str(json_array_get(l, 0), "state"), "in", "its newest");
	json_decref(l);
	l = inbox_consent_list(&ib, "+15551234567", 0, &e);
	is_int(json_array_size(l), 0, "a number not in the ledger: none");
	json_decref(l);
	c = inbox_last_message(&ib, "+15557654321", &e);
	is_str(record_str(c, "body"), "start", "the last message of a thread");
	json_decref(c);
	ok(!inbox_last_message(&ib, "+15550000000", &e) && errno == ENOENT,
	    "of no thread: none, ENOENT");

	/* Updates and the working set. */
	l = inbox_list(&ib, 0, &e);
	is_int(json_array_size(l), 2, "two conversations in the working set");
	json_decref(l);
	is_int(inbox_update(&ib, "+15557654321", resolve, NULL, &c, &e), 0,
	    "resolved");
	json_decref(c);
	ok(!exists(&ib, "work/+15557654321"), "left the working set");
	l = inbox_list(&ib, 0, &e);
	is_int(json_array_size(l), 1, "one left in the working set");
	json_decref(l);
	l = inbox_list(&ib, 1, &e);
	is_int(json_array_size(l), 2, "both with all");
	json_decref(l);
	is_int(inbox_update(&ib, "+15557654321", unchanged, NULL, NULL, &e),
	    1, "an update that changes nothing says so");
	m = inbound("+15557654321", "SM5", "one more thing");
	inbox_deliver(&ib, m, 0, NULL, &d, &e);
	is_str(record_str(d.conversation, "status"), "open",
	    "a new message reopens a resolved conversation");
	ok(exists(&ib, "work/+15557654321"), "back in the working set");
	inbox_delivery_free(&d);
	json_decref(m);

	/* Bad input. */
	m = inbound("../etc", "SM6", "x");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), -1,
	    "a thread that is not a number is refused");
	json_decref(m);
	fd = openat(ib.fd, "conv/+15550009999", O_WRONLY | O_CREAT, 0600);
	write(fd, "{\"type\":\"conv", 13);
	close(fd);
	fd = openat(ib.fd, "work/+15550009999", O_WRONLY | O_CREAT, 0600);
	close(fd);
	reports = 0;
	l = inbox_list(&ib, 0, &e);
	is_int(json_array_size(l), 2, "a corrupt conversation is not listed");
	is_int(reports, 1, "it is reported");
	ok(!exists(&ib, "conv/+15550009999"), "and moved aside");
	json_decref(l);

	/* tmp debris. */
	fd = openat(ib.fd, "tmp/old", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = openat(ib.fd, "tmp/young", O_WRONLY | O_CREAT, 0600);
	close(fd);
	{
		struct timespec ts[2] = { { time(NULL) - 37 * 3600, 0 },
			{ time(NULL) - 37 * 3600, 0 } };

		utimensat(ib.fd, "tmp/old", ts, 0);
	}
	/* Reports parked for a week for a message that never came. */
	inbox_status(&ib, "twilio", "SMold", "delivered", NULL, NULL, &e);
	inbox_status(&ib, "twilio", "SMnew", "delivered", NULL, NULL, &e);
	{
		struct timespec ts[2] = { { time(NULL) - 8 * 86400, 0 },
			{ time(NULL) - 8 * 86400, 0 } };

		utimensat(ib.fd, "status/twilio-SMold", ts, 0);
	}
	is_int(inbox_sweep(&ib, INBOX_SWEEP_AGE, &removed, &e), 0, "swept");
	is_int(removed, 2, "one stale file and one stale report removed");
	ok(exists(&ib, "tmp/young"), "a young one kept");
	ok(!exists(&ib, "status/twilio-SMold"), "a report parked 8 days "
	    "ago is gone");
	ok(exists(&ib, "status/twilio-SMnew"), "a fresh one stays");

	/* What sms-send --reconcile asks: is this provider id claimed? */
	is_int(inbox_known_id(&ib, "twilio", "SM1"), 1, "SM1 is known");
	is_int(inbox_known_id(&ib, "twilio", "SMnever"), 0,
	    "SMnever is not");
	m = inbound("+15551234599", "SM.1/x", "Dots");
	is_int(inbox_deliver(&ib, m, 0, NULL, &d, &e), 0, "an odd id stored");
	inbox_delivery_free(&d);
	json_decref(m);
	is_int(inbox_known_id(&ib, "twilio", "SM.1/x"), 1,
	    "and known by its escaped ledger name");
	fd = openat(ib.fd, "ids/twilio-SMfile", O_WRONLY | O_CREAT, 0600);
	close(fd);
	is_int(inbox_known_id(&ib, "twilio", "SMfile"), 0,
	    "a planted file in ids/ claims nothing");
	unlinkat(ib.fd, "ids/twilio-SMfile", 0);
	snprintf(path, sizeof path, "%s/elsewhere", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/elsewhere/twilio-SMout", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof path, "%s/inbox/ids", dir);
	{
		char moved[600];

		/* ids/ swapped for a link once the inbox is open. */
		snprintf(moved, sizeof moved, "%s/ids.real", dir);
		rename(path, moved);
		snprintf(moved, sizeof moved, "%s/elsewhere", dir);
		symlink(moved, path);
		is_int(inbox_known_id(&ib, "twilio", "SMout"), 0,
		    "a planted link in place of ids/ is not followed");
		is_int(inbox_known_id(&ib, "twilio", "SM1"), 1,
		    "the ledger is read through the directory held open");
		unlink(path);
		snprintf(moved, sizeof moved, "%s/ids.real", dir);
		rename(moved, path);
	}

	inbox_close(&ib);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	test_each();
	test_ledgers();
	return tap_done();
}
