/*
 * serve.h: pictures we send, and the links the provider fetches them by
 * (smsdesk-inbox(5), media/ and serve/).
 *
 * A local file given to a message (sms-send --media) is copied into the
 * inbox, media/THREAD/MSGID.N.EXT, as the conversation keeps what was
 * sent; and linked as serve/EXPIRES-TOKEN.EXT, TOKEN 32 random bytes in
 * hex, EXPIRES the epoch second after which the listener (sms-recv
 * --listen, GET /media/NAME) no longer serves it and a sweep removes it.
 * The provider is given public_url + "/media/" + that name.
 *
 * Ownership: what a struct media_out holds is its own (the type is
 * static).
 */
#ifndef SERVE_H
#define SERVE_H

#include <sys/stat.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"

#define SERVE_NAME_MAX 96	/* EXPIRES-TOKEN.EXT and a NUL */
#define MEDIA_FILE_MAX 320	/* media/THREAD/NAME and a NUL */
#define MEDIA_ID_MAX 128	/* a message id and a NUL */

struct media_out {
	const char *type;		/* sniffed (media_sniff()), or NULL */
	long long size;			/* bytes */
	char sha256[65];		/* hex, once copied */
	char file[MEDIA_FILE_MAX];	/* "media/THREAD/NAME", once copied */
	char serve[SERVE_NAME_MAX];	/* "EXPIRES-TOKEN.EXT", once
					   linked */
};

/*
 * The size and sniffed type of the regular file at path, in m (nothing
 * copied). 0, or -1 with errno and e ("PATH: why").
 */
int media_out_inspect(const char *path, struct media_out *m,
    struct errbuf *e);

/*
 * A new message id, as inbox_deliver() would give one: to name a
 * message's media before it is stored.
 */
void inbox_new_id(const struct inbox *ib, char out[MEDIA_ID_MAX]);

/*
 * Copy the file at path into ib as media/THREAD/ID.N.EXT (EXT from the
 * bytes' type): written in tmp/, fsynced, renamed without replacing,
 * media/THREAD synced; then linked (a hard link, else a copy, synced) as
 * serve/EXPIRES-TOKEN.EXT and serve/ synced. m gets the size, type and
 * sha256 of the bytes copied, file and serve. 0, or -1 with errno and e;
 * nothing is left but tmp/ debris (inbox_sweep()).
 */
int inbox_media_put(struct inbox *ib, const char *path, const char *thread,
    const char *id, unsigned n, time_t expires, struct media_out *m,
    struct errbuf *e);

/*
 * Take back what inbox_media_put() made for the items of media (a
 * message's "media"): each item's "file" in media/, and the serve/ link
 * its "url" ends in; for a message that was not stored after all (a
 * duplicate of one stored before, or refused). Nothing else is touched.
 */
void inbox_media_unsend(struct inbox *ib, const json_t *media);

/*
 * Whether name is one serve/ holds: EXPIRES-TOKEN.EXT, EXPIRES decimal
 * digits (no leading zero, at most 19), TOKEN 64 lowercase hex digits,
 * EXT 1 to 8 lowercase letters or digits. 1 with *expires, else 0.
 */
int inbox_serve_name(const char *name, time_t *expires);

/*
 * The link serve/name opened for reading, if name is valid, not a
 * symbolic link, a regular file, and not expired at now: its descriptor
 * and *st; or -1 with errno ENOENT (no such name, or not one serve/
 * could hold) or ETIME (expired).
 */
int inbox_serve_open(struct inbox *ib, const char *name, time_t now,
    struct stat *st);

/*
 * Remove the links of serve/ expired at now, and any name that is no
 * valid link; *removed gets how many (if not NULL). 0, or -1 with e.
 */
int inbox_serve_sweep(struct inbox *ib, time_t now, size_t *removed,
    struct errbuf *e);

#endif
