/*
 * assign: agents, and who owns which conversation, assign(1).
 *
 * The map of this program:
 *   the roster      --agents lists it; --add, --change, --remove, --on,
 *                   --off change it (roster.h: roster/agents, under
 *                   lock/roster)
 *   taking work     --claim NUMBER [AGENT] takes one if nobody has it,
 *                   under the thread's lock (roster_claim()); --next
 *                   [AGENT] claims the oldest waiting one the agent may
 *                   take (skills, capacity)
 *   routing         --auto gives the waiting ones to agents on shift by
 *                   a policy (assign/route.c), the whole backlog or each
 *                   record of stdin as it comes; --plan says what it
 *                   would do and does nothing
 * --next and --auto hold lock/roster while they count loads and claim, so
 * that capacities hold against each other; every claim still goes
 * through roster_claim(), so a conversation taken meanwhile by hand
 * (inbox-mark --assign, assign --claim) is never taken twice. Each change
 * is an event record on stdout (a line on a terminal), printed once the
 * change is durable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "limit.h"
#include "phone.h"
#include "record.h"
#include "roster.h"
#include "thread.h"
#include "when.h"
#include "assign/route.h"

#define USAGE "usage: assign [-hjtV] [-d DIR] --agents\n" \
	"       assign [-d DIR] --add NAME | --change NAME " \
	"[--capacity N] [--skills LIST]\n" \
	"       assign [-d DIR] --remove NAME | --on NAME | " \
	"--off NAME [--release]\n" \
	"       assign [-jt] [-d DIR] [-a NAME] --claim NUMBER [AGENT]\n" \
	"       assign [-jt] [-d DIR] [-a NAME] --next [AGENT]\n" \
	"       assign [-jt] [-d DIR] --auto [--plan] [--policy POLICY] " \
	"[NUMBER ...]\n" \
	"       assign [-jt] [-d DIR] -A NUMBER ...\n"

/* The options with no short form (smsdesk(7), Options). */
enum {
	OPT_ADD = 256, OPT_AGENTS, OPT_AUTO, OPT_CAPACITY, OPT_CHANGE,
	OPT_CLAIM, OPT_NEXT, OPT_OFF, OPT_ON, OPT_PLAN, OPT_POLICY,
	OPT_RELEASE, OPT_REMOVE, OPT_SKILLS,
};

/* A claim made, its sync deferred (roster_sync()), its event to come. */
struct pending {
	char thread[THREAD_MAX];
	const char *agent;		/* the roster's */
	char previous[ROSTER_NAME_BUF];
	char *reason;
	json_t *after;
};

/* Claims that share one sync: enough to make a sync cheap per claim. */
#define BATCH 1024

struct assign {
	struct inbox ib;
	struct config *cfg;
	int action;			/* OPT_AGENTS, OPT_ADD, ... */
	const char *action_name;
	const char *name;		/* of --add, --change, ... */
	const char *agent;		/* -a, or AGENT */
	const char *skills;		/* --skills */
	long capacity;			/* --capacity, or -1 */
	int release, plan;
	const char *policy;
	const char *country;
	int json;
	int out_errno;
	int ret;
	struct pending *pend;		/* --auto: claims not yet synced */
	int unsynced;			/* a sync of them failed */
	size_t npend;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -A, --unassign         give conversations NUMBER ... "
		    "back to the queue\n"
		    "  -a, --agent NAME       the agent who claims (default: "
		    "$SMSDESK_AGENT)\n"
		    "      --add NAME         add an agent to the roster, on "
		    "shift\n"
		    "      --agents           list the agents: load, oldest "
		    "waiting, last assigned\n"
		    "      --auto             give waiting conversations to "
		    "agents on shift\n"
		    "      --capacity N       the most open conversations an "
		    "agent takes (10)\n"
		    "      --change NAME      change an agent's --capacity or "
		    "--skills\n"
		    "      --claim            take conversation NUMBER if "
		    "nobody has it\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             print NDJSON records (the "
		    "default in a pipe)\n"
		    "      --next             claim the oldest waiting "
		    "conversation the agent\n"
		    "                         may take (skills, capacity)\n"
		    "      --off NAME         take an agent off shift\n"
		    "      --on NAME          put an agent on shift\n"
		    "      --plan             with --auto, print each decision "
		    "and change nothing\n"
		    "      --policy POLICY    least-loaded (default) or "
		    "round-robin\n"
		    "      --release          with --off, give the agent's "
		    "conversations back\n"
		    "      --remove NAME      remove an agent from the roster\n"
		    "      --skills LIST      an agent's skills, separated by "
		    "commas or spaces\n"
		    "  -t, --table            print a table (the default on a "
		    "terminal)\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWith --auto and no NUMBER, records on stdin (a pipe or "
		    "a file) are routed as\n"
		    "they come; with no stdin records, the whole backlog.\n",
		    fp);
	exit(code);
}

static void
note(struct assign *s, int code)
{
	if (code > s->ret)
		s->ret = code;
}

static void
report(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	note(arg, EXIT_PARTIAL);
}

/* Write rec to stdout; a failure is kept for the end. */
static void
emit(struct assign *s, const json_t *rec)
{
	if (!ferror(stdout) && record_write(stdout, rec) < 0)
		s->out_errno = errno;
}

static void
die_lib(const struct errbuf *e)
{
	diag_die(diag_exit_for(errno), "%s", e->msg);
}

/* ---- the roster ------------------------------------------------------ */

/* --skills LIST as an array of names; dies on a bad one. */
static json_t *
parse_skills(const char *list)
{
	json_t *a = json_array();
	char *dup = strdup(list), *tok, *save = NULL;

	if (!a || !dup)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (tok = strtok_r(dup, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (!roster_name_valid(tok))
			diag_die(EXIT_USAGE, "--skills: '%s' is not a skill "
			    "(letters, digits, . _ - @)", tok);
		if (json_array_size(a) == ROSTER_SKILLS_MAX)
			diag_die(EXIT_USAGE, "--skills: more than %d",
			    ROSTER_SKILLS_MAX);
		json_array_append_new(a, json_string(tok));
	}
	free(dup);
	return a;
}

struct edit {
	struct assign *s;
	const char *what;	/* what happened, for the terminal */
};

static int
set_changed(json_t *agent, struct errbuf *e)
{
	char at[WHEN_BUFSZ];

	when_format(when_now(), at);
	if (json_object_set_new(agent, "changed_at", json_string(at)) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/* The roster_update() callback of --add, --change, --remove, --on, --off. */
static int
edit_roster(json_t *agents, void *arg, struct errbuf *e)
{
	struct edit *ed = arg;
	struct assign *s = ed->s;
	json_t *a = roster_find(agents, s->name);
	size_t i;
	int on;

	if (s->action == OPT_ADD) {
		if (a)
			return errno = EEXIST, errf(e, "%s: in the roster "
			    "already (assign --change)", s->name);
		if (json_array_size(agents) >= ROSTER_AGENTS_MAX)
			return errno = EINVAL, errf(e, "the roster has %d "
			    "agents, its most", ROSTER_AGENTS_MAX);
		ed->what = "added";
		return json_array_append_new(agents, roster_agent_new(s->name,
		    s->skills ? parse_skills(s->skills) : NULL,
		    s->capacity >= 0 ? s->capacity : ROSTER_CAPACITY, 1)) < 0 ?
		    (errno = ENOMEM, errf(e, "%s", strerror(ENOMEM))) : 0;
	}
	if (!a)
		return errno = ENOENT, errf(e, "%s: no such agent in the "
		    "roster", s->name);
	switch (s->action) {
	case OPT_REMOVE:
		json_array_foreach(agents, i, a)
			if (strcmp(record_str(a, "name"), s->name) == 0)
				break;
		json_array_remove(agents, i);
		ed->what = "removed";
		return 0;
	case OPT_ON:
	case OPT_OFF:
		on = s->action == OPT_ON;
		ed->what = on ? "on shift" : "off shift";
		if (roster_on_shift(a) == on)
			return 1;
		json_object_set_new(a, "on_shift", json_boolean(on));
		return set_changed(a, e);
	default:
		ed->what = "changed";
		if (s->skills)
			json_object_set_new(a, "skills",
			    parse_skills(s->skills));
		if (s->capacity >= 0)
			json_object_set_new(a, "capacity",
			    json_integer(s->capacity));
		return set_changed(a, e);
	}
}

/* Print the agent called name of agents after a change. */
static void
show_agent(struct assign *s, const json_t *agents, const char *what)
{
	const json_t *a = roster_find(agents, s->name);
	json_t *rec;

	if (!s->json) {
		printf("%s: %s\n", s->name, what);
		return;
	}
	if (!a) {
		rec = json_pack("{s:s,s:s,s:b}", "type", "agent", "name",
		    s->name, "removed", 1);
	} else {
		rec = json_deep_copy(a);
		json_object_set_new(rec, "type", json_string("agent"));
	}
	if (!rec)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	emit(s, rec);
	json_decref(rec);
}

static void release_all(struct assign *s, const char *name);

static void
change_roster(struct assign *s)
{
	struct edit ed = { s, "" };
	struct errbuf e;
	json_t *after;
	int rc = roster_update(&s->ib, 0, edit_roster, &ed, &after, &e);

	if (rc < 0) {
		if (errno == EEXIST || errno == ENOENT) {
			diag_warn("%s", e.msg);
			s->ret = EXIT_PARTIAL;
			return;
		}
		die_lib(&e);
	}
	if (rc == 1 && !s->json)
		printf("%s: %s already\n", s->name, ed.what);
	else if (rc == 0)
		show_agent(s, after, ed.what);
	json_decref(after);
	if (s->action == OPT_OFF && s->release)
		release_all(s, s->name);
}

/* An event record on a conversation. */
static void
event(struct assign *s, const char *name, const char *thread,
    const char *agent, const char *previous, const char *reason,
    json_t *conv)
{
	char at[WHEN_BUFSZ];
	json_t *rec;

	if (!s->json) {
		if (agent)
			printf("%s: assigned to %s (%s)\n", thread, agent,
			    reason);
		else
			printf("%s: unassigned (%s)\n", thread, reason);
		return;
	}
	when_format(when_now(), at);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:O}", "type",
	    "event", "event", name, "thread", thread, "at", at, "agent", agent,
	    "previous_agent", previous && *previous ? previous : NULL,
	    "reason", reason, "conversation", conv);
	if (!rec)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	emit(s, rec);
	json_decref(rec);
}

/* --off NAME --release: NAME's open conversations back to the queue. */
static void
release_all(struct assign *s, const char *name)
{
	struct roster_conv *v;
	struct errbuf e;
	char why[LIMIT_NAME + 32];
	json_t *after;
	size_t n, i;
	int rc;

	if (roster_scan(&s->ib, &v, &n, &e) < 0)
		die_lib(&e);
	snprintf(why, sizeof why, "released: %s went off shift", name);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].assignee, name) != 0)
			continue;
		rc = roster_release(&s->ib, v[i].thread, name, &after, &e);
		if (rc < 0) {
			diag_warn("%s", e.msg);
			note(s, diag_exit_for(errno));
			continue;
		}
		if (rc == 0)
			event(s, "conversation.unassigned", v[i].thread, NULL,
			    name, why, after);
		json_decref(after);
	}
	roster_scan_free(v, n);
}

/* The oldest waiting conversation among those of agent a. */
static const struct roster_conv *
oldest_of(const struct roster_conv *v, size_t n, const char *name)
{
	const struct roster_conv *o = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].assignee, name) == 0 && v[i].waiting[0] &&
		    strcmp(v[i].status, INBOX_OPEN) == 0 &&
		    (!o || strcmp(v[i].waiting, o->waiting) < 0))
			o = &v[i];
	return o;
}

/* Skills joined by commas, into out. */
static void
skills_str(const json_t *agent, char *out, size_t size)
{
	size_t i, used = 0;
	json_t *k;

	out[0] = '\0';
	json_array_foreach(json_object_get(agent, "skills"), i, k)
		if (json_is_string(k) && used < size)
			used += (size_t)snprintf(out + used, size - used,
			    "%s%s", used ? "," : "", json_string_value(k));
	if (!out[0])
		snprintf(out, size, "-");
}

/* --agents */
static void
list_agents(struct assign *s)
{
	struct router r = { 0 };
	struct roster_conv *v;
	struct errbuf e;
	size_t n, i;

	if (!(r.agents = roster_agents(&s->ib, &e)) ||
	    roster_scan(&s->ib, &v, &n, &e) < 0)
		die_lib(&e);
	if (route_count(&r, v, n) < 0)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (!s->json && r.na)
		printf("%-16s %-5s %-9s %-20s %-33s %s\n", "AGENT", "SHIFT",
		    "LOAD", "SKILLS", "OLDEST WAITING", "LAST ASSIGNED");
	for (i = 0; i < r.na; i++) {
		const struct agent *a = &r.a[i];
		const struct roster_conv *o = oldest_of(v, n, a->name);
		char load[48], skills[256], old[80];
		json_t *rec;

		if (!s->json) {
			snprintf(load, sizeof load, "%ld/%ld", a->load,
			    a->capacity);
			skills_str(a->rec, skills, sizeof skills);
			snprintf(old, sizeof old, "%s %s", o ? o->thread :
			    "-", o ? o->waiting : "");
			printf("%-16s %-5s %-9s %-20s %-33s %s\n", a->name,
			    a->on_shift ? "on" : "off", load, skills, old,
			    a->last[0] ? a->last : "-");
			continue;
		}
		if (!(rec = json_deep_copy(a->rec)) ||
		    json_object_set_new(rec, "type", json_string("agent")) ||
		    json_object_set_new(rec, "load", json_integer(a->load)) ||
		    json_object_set_new(rec, "oldest_waiting", o ?
		    json_pack("{s:s,s:s}", "thread", o->thread,
		    "waiting_since", o->waiting) : json_null()) ||
		    json_object_set_new(rec, "last_assigned_at", a->last[0] ?
		    json_string(a->last) : json_null()))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		emit(s, rec);
		json_decref(rec);
	}
	roster_scan_free(v, n);
	route_free(&r);
}

/* ---- taking work ----------------------------------------------------- */

/* The agent who claims: AGENT, -a, or SMSDESK_AGENT; it must be one. */
static const char *
claimer(struct assign *s, const json_t *agents)
{
	const char *a = s->agent ? s->agent : config_pick(s->cfg, NULL,
	    "SMSDESK_AGENT", "agent", NULL);

	if (!a || !*a)
		diag_die(EXIT_USAGE, "%s: which agent? Give AGENT or -a "
		    "NAME, or set SMSDESK_AGENT", s->action_name);
	if (!roster_find(agents, a))
		diag_die(EXIT_USAGE, "%s: %s: no such agent in the roster "
		    "(assign --add %s)", s->action_name, a, a);
	return a;
}

/* --claim NUMBER [AGENT] */
static void
claim(struct assign *s, const char *number)
{
	struct roster_claim c = { 0 };
	char num[THREAD_MAX];
	struct errbuf e;
	json_t *agents;

	if (thread_parse(number, s->country, num, &e) < 0)
		diag_die(EXIT_USAGE, "%s: %s", number, e.msg);
	if (!(agents = roster_agents(&s->ib, &e)))
		die_lib(&e);
	c.agent = claimer(s, agents);
	if (roster_claim(&s->ib, num, &c, &e) < 0) {
		if (errno == ENOENT)
			diag_die(EXIT_PARTIAL, "%s: no such conversation",
			    num);
		die_lib(&e);
	}
	if (c.won)
		event(s, "conversation.assigned", num, c.agent, c.previous,
		    "claimed", c.after);
	else if (strcmp(c.owner, c.agent) == 0 && !s->json)
		printf("%s: %s's already\n", num, c.agent);
	else if (strcmp(c.owner, c.agent) != 0) {
		diag_warn("%s: owned by %s", num, c.owner);
		s->ret = EXIT_PARTIAL;
	}
	json_decref(c.after);
	json_decref(agents);
}

/* Hold lock/roster and count: the roster, the working set, the loads. */
static int
take_stock(struct assign *s, struct router *r, struct roster_conv **v,
    size_t *n)
{
	struct errbuf e;
	int lk;

	if ((lk = roster_lock(&s->ib, &e)) < 0 ||
	    !(r->agents = roster_agents(&s->ib, &e)) ||
	    roster_rotation(&s->ib, r->rotation, sizeof r->rotation, &e) < 0 ||
	    roster_scan(&s->ib, v, n, &e) < 0)
		die_lib(&e);
	if (route_count(r, *v, *n) < 0)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	return lk;
}

/*
 * Whether the conversation of entry x of the index q is as its name says;
 * if not, its names there are made right (under its lock) and 0. *conv
 * gets the conversation when it is.
 */
static int
as_named(struct assign *s, const struct inbox_queue *q,
    const struct inbox_queue_entry *x, json_t **conv)
{
	char right[INBOX_QUEUE_NAME_MAX];
	const char *mine[8];
	struct errbuf e;
	size_t i, k = 0;

	*conv = inbox_conversation(&s->ib, x->thread, &e);
	inbox_queue_name_json(x->thread, *conv, right);
	if (strcmp(right, x->name) == 0)
		return 1;
	json_decref(*conv);
	*conv = NULL;
	for (i = 0; i < q->n && k < 8; i++)
		if (strcmp(q->v[i].thread, x->thread) == 0)
			mine[k++] = q->v[i].name;
	if (inbox_queue_fix(&s->ib, x->thread, mine, k, &e) < 0) {
		diag_warn("%s", e.msg);
		note(s, diag_exit_for(errno));
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(const struct inbox_queue_entry *const *)a)->name,
	    (*(const struct inbox_queue_entry *const *)b)->name);
}

/*
 * The waiting entries of q after *last (NULL: from the first), oldest
 * first: found by a pass for the least (a call usually takes the first
 * or the second), and after PICKS of them, all sorted once.
 */
#define PICKS 8
struct picker {
	const struct inbox_queue *q;
	const struct inbox_queue_entry **sorted, *last;
	size_t n, at, picks;
};

static const struct inbox_queue_entry *
pick(struct picker *p)
{
	const struct inbox_queue_entry *best = NULL, *x;
	size_t i;

	if (p->picks++ == PICKS) {
		if (!(p->sorted = malloc((p->q->n ? p->q->n : 1) *
		    sizeof *p->sorted)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		for (i = 0; i < p->q->n; i++)
			if (p->q->v[i].kind == 'w' && (!p->last ||
			    strcmp(p->q->v[i].name, p->last->name) > 0))
				p->sorted[p->n++] = &p->q->v[i];
		qsort(p->sorted, p->n, sizeof *p->sorted, by_name);
	}
	if (p->sorted)
		return p->at < p->n ? p->sorted[p->at++] : NULL;
	for (i = 0; i < p->q->n; i++) {
		x = &p->q->v[i];
		if (x->kind == 'w' && (!p->last || strcmp(x->name,
		    p->last->name) > 0) && (!best || strcmp(x->name,
		    best->name) < 0))
			best = x;
	}
	return p->last = best;
}

/*
 * --next [AGENT]: through queue/ (inbox.h), not the whole working set:
 * the agent's load from its names there, each checked against its
 * conversation, then the conversations waiting for an owner, oldest
 * first, each checked as it is reached, until one the agent fits is
 * claimed. 15,000 open conversations took 90-120 ms to read whole; their
 * names, a few.
 */
static void
next(struct assign *s)
{
	struct router r = { 0 };
	struct roster_claim c = { 0 };
	struct inbox_queue q = { 0 };
	const struct inbox_queue_entry *x;
	struct picker p = { .q = &q };
	struct agent *a;
	struct errbuf e;
	char why[128];
	size_t i, alen;
	json_t *conv;
	int lk;

	if (route_rules(&r, s->cfg, &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if ((lk = roster_lock(&s->ib, &e)) < 0 ||
	    !(r.agents = roster_agents(&s->ib, &e)) ||
	    inbox_queue_read(&s->ib, &q, &e) < 0)
		die_lib(&e);
	if (!q.whole) {
		inbox_queue_release(&q);
		if (roster_queue_rebuild(&s->ib, &e) < 0 ||
		    inbox_queue_read(&s->ib, &q, &e) < 0)
			die_lib(&e);
	}
	if (route_count(&r, NULL, 0) < 0)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	c.agent = claimer(s, r.agents);
	a = route_agent(&r, c.agent);
	alen = strlen(a->name);
	for (i = 0; i < q.n; i++) {
		x = &q.v[i];
		if (x->kind == 'a' && x->key_len == alen &&
		    memcmp(x->key, a->name, alen) == 0 &&
		    as_named(s, &q, x, &conv)) {
			a->load++;
			json_decref(conv);
		}
	}
	if (a->load >= a->capacity) {
		diag_warn("%s is at capacity (%ld/%ld open)", a->name,
		    a->load, a->capacity);
		s->ret = EXIT_PARTIAL;
		goto out;
	}
	while ((x = pick(&p))) {
		if (!as_named(s, &q, x, &conv))
			continue;
		if (!route_fits(&r, a, record_str(conv, "last_body"), NULL)) {
			json_decref(conv);
			continue;
		}
		json_decref(conv);
		if (roster_claim(&s->ib, x->thread, &c, &e) < 0) {
			diag_warn("%s", e.msg);
			note(s, diag_exit_for(errno));
			continue;
		}
		if (c.won) {
			snprintf(why, sizeof why, "next: waiting since %.*s",
			    (int)x->key_len, x->key[0] != '~' ? x->key : "-");
			event(s, "conversation.assigned", x->thread, c.agent,
			    c.previous, why, c.after);
			json_decref(c.after);
			goto out;
		}
		json_decref(c.after);
	}
	diag_warn("nothing waiting for %s", a->name);
	s->ret = EXIT_PARTIAL;
out:
	roster_unlock(lk);
	free(p.sorted);
	inbox_queue_release(&q);
	route_free(&r);
}

/* -A NUMBER ...: back to the queue, whoever had them. */
static void
unassign(struct assign *s, char **argv, int argc)
{
	char num[THREAD_MAX];
	struct errbuf e;
	json_t *after;
	int i, rc;

	/* Every NUMBER is checked before anything is changed. */
	for (i = 0; i < argc; i++)
		if (thread_parse(argv[i], s->country, num, &e) < 0)
			diag_die(EXIT_USAGE, "%s: %s (nothing was changed)",
			    argv[i], e.msg);
	for (i = 0; i < argc; i++) {
		thread_parse(argv[i], s->country, num, &e);
		rc = roster_release(&s->ib, num, NULL, &after, &e);
		if (rc < 0) {
			int err = errno;

			if (err == ENOENT)
				diag_warn("%s: no such conversation", num);
			else
				diag_warn("%s", e.msg);
			note(s, err == ENOENT ? EXIT_PARTIAL :
			    diag_exit_for(err));
			continue;
		}
		if (rc == 0)
			event(s, "conversation.unassigned", num, NULL,
			    record_str(after, "previous_assignee"),
			    "unassigned by hand", after);
		json_decref(after);
	}
}

/* ---- routing --------------------------------------------------------- */

/*
 * Make the pending claims durable with one sync, then print their events:
 * an event only ever tells of a change on disk. If the sync fails, no
 * event is printed, and the claims are said as not known to be durable
 * (-1).
 */
static int
flush_pending(struct assign *s)
{
	struct errbuf e;
	size_t i;
	int synced;

	if (!s->npend)
		return 0;
	if (!(synced = roster_sync(&s->ib, &e) == 0)) {
		s->unsynced = 1;
		diag_warn("%s: %zu assignments may not be on disk", e.msg,
		    s->npend);
		note(s, diag_exit_for(errno));
	}
	for (i = 0; i < s->npend; i++) {
		struct pending *p = &s->pend[i];

		if (synced)
			event(s, "conversation.assigned", p->thread, p->agent,
			    p->previous, p->reason, p->after);
		free(p->reason);
		json_decref(p->after);
	}
	s->npend = 0;
	return synced ? 0 : -1;
}

/* Keep a claim made with its sync deferred; c->after is taken. */
static void
add_pending(struct assign *s, const char *thread, const char *agent,
    struct roster_claim *c, const char *why)
{
	struct pending *p;

	if (!s->pend && !(s->pend = calloc(BATCH, sizeof *s->pend)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	p = &s->pend[s->npend++];
	snprintf(p->thread, sizeof p->thread, "%s", thread);
	p->agent = agent;
	snprintf(p->previous, sizeof p->previous, "%s", c->previous);
	if (!(p->reason = strdup(why)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	p->after = c->after;
	c->after = NULL;
	if (s->npend == BATCH)
		flush_pending(s);
}

/*
 * One decision of --auto on v: printed (--plan) or applied; with batch,
 * its sync and its event are left to flush_pending().
 */
static void
route_one(struct assign *s, struct router *r, const struct roster_conv *v,
    int batch)
{
	struct roster_claim c = { 0 };
	struct agent *a;
	struct errbuf e;
	char why[256], at[WHEN_BUFSZ];
	json_t *rec;

	a = route_decide(r, v, why, sizeof why);
	when_format(when_now(), at);
	if (s->plan) {
		if (!s->json)
			printf("%s %s: %s\n", v->thread, a ? a->name : "-",
			    why);
		else if ((rec = json_pack("{s:s,s:s,s:s?,s:s,s:s?}", "type",
		    "plan", "thread", v->thread, "agent", a ? a->name : NULL,
		    "reason", why, "waiting_since", v->waiting[0] ?
		    v->waiting : NULL))) {
			emit(s, rec);
			json_decref(rec);
		}
		if (a)
			route_took(r, a, at);
		return;
	}
	if (!a) {
		diag_warn("%s: left unassigned: %s", v->thread, why);
		return;
	}
	c.agent = a->name;
	c.defer = batch;
	if (roster_claim(&s->ib, v->thread, &c, &e) < 0) {
		diag_warn("%s", e.msg);
		note(s, diag_exit_for(errno));
		return;
	}
	if (c.won) {
		route_took(r, a, at);
		if (batch)
			add_pending(s, v->thread, a->name, &c, why);
		else
			event(s, "conversation.assigned", v->thread, a->name,
			    c.previous, why, c.after);
	} else if ((a = route_agent(r, c.owner))) {
		/* Taken meanwhile by hand: its owner's load counts it. */
		a->load++;
	}
	json_decref(c.after);
}

/* Save where round-robin stands, if it moved. */
static void
save_rotation(struct assign *s, struct router *r, const char *before)
{
	struct errbuf e;

	if (s->plan || r->policy != POLICY_ROUND_ROBIN ||
	    strcmp(before, r->rotation) == 0)
		return;
	if (roster_rotate(&s->ib, r->rotation, &e) < 0) {
		diag_warn("%s", e.msg);
		note(s, diag_exit_for(errno));
	}
}

static int by_str(const void *a, const void *b);

/*
 * --auto over the conversations named (threads, nt of them, sorted by
 * by_str(); NULL: the whole backlog), under lock/roster.
 */
static void
route_some(struct assign *s, struct router *proto, const char *const *threads,
    size_t nt)
{
	struct router r = *proto;
	struct roster_conv *v;
	char before[ROSTER_NAME_BUF];
	const char *key;
	struct errbuf e;
	size_t n, i;
	int lk = take_stock(s, &r, &v, &n), whole = 0;

	/*
	 * Claims made together are synced together: their queue/ names
	 * moved meanwhile, the index said whole again once they are synced
	 * (a crash before leaves it to be rebuilt).
	 */
	if (!s->plan && (whole = inbox_queue_suspend(&s->ib, &e)) < 0)
		die_lib(&e);
	snprintf(before, sizeof before, "%s", r.rotation);
	route_sort(v, n);
	for (i = 0; i < n; i++) {
		if (!roster_waiting(&v[i]))
			continue;
		key = v[i].thread;
		if (!threads || bsearch(&key, threads, nt, sizeof *threads,
		    by_str))
			route_one(s, &r, &v[i], !threads || nt > 1);
	}
	if (flush_pending(s) == 0 && whole && !s->unsynced &&
	    inbox_queue_built(&s->ib, &e) < 0) {
		diag_warn("%s", e.msg);
		note(s, diag_exit_for(errno));
	}
	save_rotation(s, &r, before);
	roster_unlock(lk);
	roster_scan_free(v, n);
	free(r.a);
	json_decref(r.agents);
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * --auto with records on stdin: each record's thread as it comes. What
 * has come together (inbox-ls | assign --auto) is routed together, up to
 * BATCH threads, oldest waiting first and with one sync; a record that
 * comes alone (sms-recv --listen | assign --auto) at once.
 */
static void
route_stream(struct assign *s, struct router *r)
{
	struct record_reader rr;
	struct errbuf e;
	const char *thread;
	char **batch;
	size_t n = 0, i;
	json_t *rec;
	int rc;

	if (!(batch = calloc(BATCH, sizeof *batch)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	record_reader_init(&rr, stdin, "stdin");
	for (;;) {
		rc = n < BATCH && (n == 0 || record_ready(&rr)) ?
		    record_read(&rr, &rec, &e) : 2;
		if (rc == 1) {
			if (record_thread(rec, &thread, &e) < 0) {
				diag_warn("stdin:%lu: %s", rr.lineno, e.msg);
				note(s, EXIT_PARTIAL);
			} else if (thread && thread_valid(thread) &&
			    thread[0] == '+' &&
			    !(batch[n++] = strdup(thread))) {
				diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
			}
			json_decref(rec);
			continue;
		}
		if (rc < 0) {
			diag_warn("%s", e.msg);
			if (!ferror(stdin)) {
				note(s, EXIT_PARTIAL);
				continue;
			}
			note(s, EXIT_IOERR);
		}
		if (n) {
			qsort(batch, n, sizeof *batch, by_str);
			route_some(s, r, (const char *const *)batch, n);
			for (i = 0; i < n; i++)
				free(batch[i]);
			n = 0;
		}
		if (rc != 2)
			break;
	}
	record_reader_free(&rr);
	free(batch);
}

/* Whether stdin holds records to route: a pipe, a socket or a file. */
static int
stdin_records(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return 0;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	    (S_ISREG(st.st_mode) && st.st_size > 0);
}

static void
route_auto(struct assign *s, char **argv, int argc)
{
	struct router r = { 0 };
	struct errbuf e;
	char num[THREAD_MAX];
	const char **threads;
	const char *p = config_pick(s->cfg, s->policy, NULL, "assign_policy",
	    "least-loaded");

	if (strcmp(p, "least-loaded") == 0)
		r.policy = POLICY_LEAST_LOADED;
	else if (strcmp(p, "round-robin") == 0)
		r.policy = POLICY_ROUND_ROBIN;
	else
		diag_die(s->policy ? EXIT_USAGE : EXIT_CONFIG, "%s: '%s': "
		    "least-loaded or round-robin", s->policy ? "--policy" :
		    "assign_policy", p);
	if (route_rules(&r, s->cfg, &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (argc > 0) {
		if (!(threads = calloc((size_t)argc, sizeof *threads)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		for (int i = 0; i < argc; i++) {
			if (thread_parse(argv[i], s->country, num, &e) < 0)
				diag_die(EXIT_USAGE, "%s: %s", argv[i], e.msg);
			if (!(threads[i] = strdup(num)))
				diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		}
		qsort(threads, (size_t)argc, sizeof *threads, by_str);
		route_some(s, &r, threads, (size_t)argc);
		for (int i = 0; i < argc; i++)
			free((char *)threads[i]);
		free(threads);
	} else if (stdin_records()) {
		route_stream(s, &r);
	} else {
		route_some(s, &r, NULL, 0);
	}
	route_free(&r);
}

/* ---- main ------------------------------------------------------------ */

static void
set_action(struct assign *s, int opt, const char *name)
{
	if (s->action && s->action != opt)
		diag_die(EXIT_USAGE, "%s and %s exclude each other",
		    s->action_name, name);
	s->action = opt;
	s->action_name = name;
}

static const char *
agent_name(const char *opt, const char *arg)
{
	if (!roster_name_valid(arg))
		diag_die(EXIT_USAGE, "%s: '%s' is not an agent's name "
		    "(1 to %d letters, digits, . _ - @)", opt, arg,
		    LIMIT_NAME);
	return arg;
}

static void
parse_args(struct assign *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "unassign", no_argument, NULL, 'A' },
		{ "agent", required_argument, NULL, 'a' },
		{ "add", required_argument, NULL, OPT_ADD },
		{ "agents", no_argument, NULL, OPT_AGENTS },
		{ "auto", no_argument, NULL, OPT_AUTO },
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "change", required_argument, NULL, OPT_CHANGE },
		{ "claim", no_argument, NULL, OPT_CLAIM },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "next", no_argument, NULL, OPT_NEXT },
		{ "off", required_argument, NULL, OPT_OFF },
		{ "on", required_argument, NULL, OPT_ON },
		{ "plan", no_argument, NULL, OPT_PLAN },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "release", no_argument, NULL, OPT_RELEASE },
		{ "remove", required_argument, NULL, OPT_REMOVE },
		{ "skills", required_argument, NULL, OPT_SKILLS },
		{ "table", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "Aa:d:hjtV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'A':
			set_action(s, c, "--unassign");
			break;
		case 'a':
			s->agent = agent_name("--agent", optarg);
			break;
		case OPT_ADD:
			set_action(s, c, "--add");
			s->name = agent_name("--add", optarg);
			break;
		case OPT_AGENTS:
			set_action(s, c, "--agents");
			break;
		case OPT_AUTO:
			set_action(s, c, "--auto");
			break;
		case OPT_CAPACITY:
			errno = 0;
			s->capacity = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || s->capacity < 0 ||
			    s->capacity > ROSTER_CAPACITY_MAX)
				diag_die(EXIT_USAGE, "--capacity: '%s' is not "
				    "a number from 0 to %d", optarg,
				    ROSTER_CAPACITY_MAX);
			break;
		case OPT_CHANGE:
			set_action(s, c, "--change");
			s->name = agent_name("--change", optarg);
			break;
		case OPT_CLAIM:
			set_action(s, c, "--claim");
			break;
		case 'd':
			s->ib.dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
		case 't':
			s->json = c == 'j';
			break;
		case OPT_NEXT:
			set_action(s, c, "--next");
			break;
		case OPT_OFF:
			set_action(s, c, "--off");
			s->name = agent_name("--off", optarg);
			break;
		case OPT_ON:
			set_action(s, c, "--on");
			s->name = agent_name("--on", optarg);
			break;
		case OPT_PLAN:
			s->plan = 1;
			break;
		case OPT_POLICY:
			s->policy = optarg;
			break;
		case OPT_RELEASE:
			s->release = 1;
			break;
		case OPT_REMOVE:
			set_action(s, c, "--remove");
			s->name = agent_name("--remove", optarg);
			break;
		case OPT_SKILLS:
			json_decref(parse_skills(optarg));
			s->skills = optarg;
			break;
		case 'V':
			printf("assign (smsdesk) %s\n", SMSDESK_VERSION);
			exit(diag_close_stdout(0));
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
}

/* The options that go with one action only, and the operands. */
static void
check_args(struct assign *s, int argc, char **argv)
{
	int edits = s->action == OPT_ADD || s->action == OPT_CHANGE;

	if (!s->action)
		diag_die(EXIT_USAGE, "what to do? --agents, --add, --claim, "
		    "--next, --auto, ... (assign --help)");
	if ((s->skills || s->capacity >= 0) && !edits)
		diag_die(EXIT_USAGE, "%s goes with --add or --change",
		    s->skills ? "--skills" : "--capacity");
	if (s->action == OPT_CHANGE && !s->skills && s->capacity < 0)
		diag_die(EXIT_USAGE, "--change: what? --capacity or --skills");
	if (s->release && s->action != OPT_OFF)
		diag_die(EXIT_USAGE, "--release goes with --off");
	if ((s->plan || s->policy) && s->action != OPT_AUTO)
		diag_die(EXIT_USAGE, "%s goes with --auto", s->plan ?
		    "--plan" : "--policy");
	if (s->agent && s->action != OPT_CLAIM && s->action != OPT_NEXT)
		diag_die(EXIT_USAGE, "--agent goes with --claim or --next");
	if (s->action == OPT_CLAIM && (argc < 1 || argc > 2))
		diag_die(EXIT_USAGE, "--claim NUMBER [AGENT]");
	if (s->action == OPT_NEXT && argc > 1)
		diag_die(EXIT_USAGE, "--next [AGENT]");
	if (s->action == 'A' && argc < 1)
		diag_die(EXIT_USAGE, "--unassign NUMBER ...");
	if (s->action != OPT_CLAIM && s->action != OPT_NEXT &&
	    s->action != OPT_AUTO && s->action != 'A' && argc > 0)
		diag_die(EXIT_USAGE, "%s: '%s': no operand here",
		    s->action_name, argv[0]);
	if ((s->action == OPT_CLAIM && argc == 2) || (s->action == OPT_NEXT &&
	    argc == 1)) {
		const char *a = argv[argc - 1];

		if (s->agent && strcmp(s->agent, a) != 0)
			diag_die(EXIT_USAGE, "--agent %s and AGENT %s: which?",
			    s->agent, a);
		s->agent = agent_name("AGENT", a);
	}
}

static void
open_inbox(struct assign *s, const char *dir)
{
	const char *group;
	struct errbuf e;
	char *path = inbox_path(dir);
	int err;

	if (!(s->cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(s->cfg, path, &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	s->country = config_pick(s->cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (s->country && *s->country && !phone_region_code(s->country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", s->country);
	group = config_pick(s->cfg, NULL, NULL, "group", NULL);
	if (inbox_group_check(group, &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (inbox_open_group(&s->ib, dir, 0, group, &e) < 0) {
		err = errno;
		inbox_close(&s->ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	s->ib.report = report;
	s->ib.report_arg = s;
	s->ib.agent = config_pick(s->cfg, NULL, "SMSDESK_AGENT", "agent",
	    NULL);
	if (s->ib.agent && !*s->ib.agent)
		s->ib.agent = NULL;
	if (s->ib.agent && limit_text("agent", strlen(s->ib.agent),
	    LIMIT_NAME, &e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_AGENT or agent: %s", e.msg);
	/* A listener's deliveries that a crash left in its journal first. */
	if (s->action != OPT_AGENTS && inbox_recover(&s->ib, NULL, &e) < 0)
		die_lib(&e);
}

int
main(int argc, char **argv)
{
	struct assign s = { .json = -1, .capacity = -1 };
	const char *dir;

	diag_init(argv[0]);
	parse_args(&s, argc, argv);
	argc -= optind;
	argv += optind;
	check_args(&s, argc, argv);
	if (s.json < 0)
		s.json = !isatty(STDOUT_FILENO);
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	dir = s.ib.dir;
	open_inbox(&s, dir);
	switch (s.action) {
	case OPT_AGENTS:
		list_agents(&s);
		break;
	case OPT_CLAIM:
		claim(&s, argv[0]);
		break;
	case OPT_NEXT:
		next(&s);
		break;
	case OPT_AUTO:
		route_auto(&s, argv, argc);
		break;
	case 'A':
		unassign(&s, argv, argc);
		break;
	default:
		change_roster(&s);
	}
	config_free(s.cfg);
	free(s.pend);
	inbox_close(&s.ib);
	if (s.out_errno)
		errno = s.out_errno;
	return diag_close_stdout(s.ret);
}
