/*
 * gather.h: everything the inbox holds about one thread, as the records
 * of inbox-export(1) (EXPORT RECORDS), handed one at a time to a sink:
 * the terminal's NDJSON, or an archive.
 */
#ifndef GATHER_H
#define GATHER_H

#include <sys/types.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"

struct gather {
	struct inbox *ib;
	const char *thread;
	/* Each record, in order; 0 to go on, -1 to stop (e filled). */
	int (*emit)(void *arg, const json_t *rec, struct errbuf *e);
	/*
	 * The bytes of a media file: fd open on it, size bytes, name its
	 * base name. Returns the name it is known by in the export (a
	 * path under the media directory, malloc'd), or NULL with e
	 * filled. NULL here: no copy (the record names the inbox's file).
	 */
	char *(*media)(void *arg, const char *name, int fd, off_t size,
	    struct errbuf *e);
	void *arg;
	int no_history;		/* leave out the history's events (an
				 * archive: the history stays in the inbox) */
	size_t records;		/* records emitted */
	int missing;		/* media files that could not be read */
};

/*
 * Hand over the records of g->thread (inbox-export(1)): "export" first,
 * then its contact, conversation, consent ledger, messages and notes (a
 * "media" record after each item of a message), history events and
 * survey answers. Returns 0 (1 if nothing at all is held about it), or
 * -1 with e filled.
 */
int gather(struct gather *g, struct errbuf *e);

#endif
