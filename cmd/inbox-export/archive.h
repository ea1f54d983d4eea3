/*
 * archive.h: a conversation archived by retention (inbox-export(1),
 * --archive): a gzip-compressed tar file that tar(1) and zcat(1) read,
 * holding THREAD/export.ndjson (the records of gather.h) and
 * THREAD/media/NAME (the bytes of its media files).
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "diag.h"
#include "inbox.h"

/*
 * Write the archive of thread into the directory dfd (path dir, for
 * messages) as name: into ".name.tmp" first, synced, then renamed to
 * name without replacing anything, and dfd synced. Returns 0, or -1 with
 * e filled (nothing left under name).
 */
int archive_write(struct inbox *ib, const char *thread, int dfd,
    const char *dir, const char *name, struct errbuf *e);

#endif
