/*
 * config.h: the configuration file, smsdesk-config(5), and the order in
 * which settings are looked up.
 *
 * The file is lines of "key = value": keys are [a-z0-9_.]+, whitespace
 * around key and value is dropped, '#' starts a comment line, a value in
 * double quotes keeps its inner text as written (\" and \\ are the only
 * escapes), and a later line for a key replaces an earlier one. The file
 * may hold credentials, so it is refused if group or others have any access
 * to it. A flag beats the environment, which beats the file, which beats
 * the built-in default (DESIGN section 6); config_pick() says that once.
 *
 * Ownership: a config owns its keys and values. config_get() and
 * config_pick() lend a pointer that stays valid until the next
 * config_load() into, or config_free() of, that config (or, for a flag,
 * environment or default value, as long as that string does).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "diag.h"

struct config;

/* An empty config, or NULL with errno ENOMEM. */
struct config *config_new(void);

/* Free c and everything it holds; NULL is allowed. */
void config_free(struct config *c);

/*
 * Read the file at path into c, a later file's keys replacing earlier
 * ones; on failure c is unchanged. Returns 0, or -1 with errno and e set:
 * ENOENT if the file does not exist (the caller decides whether that
 * matters), EACCES if group or others may access it ("PATH: readable by
 * group or others; run chmod 600 PATH") or another user than the
 * effective one (or root) owns it, EINVAL if it is not a regular file
 * (never waited on: a FIFO does not block), EINVAL on a malformed line
 * ("PATH:LINE: ..."), or the error of open or read.
 */
int config_load(struct config *c, const char *path, struct errbuf *e);

/* The value of key, or NULL if it is not set. */
const char *config_get(const struct config *c, const char *key);

/*
 * The i-th setting of c (from 0, in the order the keys were first set):
 * 1 with *key and *val lent as config_get() lends them, or 0 past the
 * last, for a caller that wants every key under a prefix.
 */
int config_entry(const struct config *c, size_t i, const char **key,
    const char **val);

/*
 * The setting to use: flag if not NULL; else the value of the environment
 * variable env if that is set and not empty; else key's value in c (c may
 * be NULL); else def.
 */
const char *config_pick(const struct config *c, const char *flag,
    const char *env, const char *key, const char *def);

/*
 * The user's config file: "$XDG_CONFIG_HOME/smsdesk/config" if that
 * variable holds an absolute path, else "$HOME/.config/smsdesk/config".
 * A string to free(), or NULL with errno ENOENT (no HOME) or ENOMEM.
 */
char *config_default_path(void);

/*
 * Load the user's config file if it exists, else "INBOX_DIR/config" if
 * inbox_dir is not NULL and that exists. Neither existing is success with
 * c unchanged. Returns 0, or -1 as config_load() does.
 */
int config_load_default(struct config *c, const char *inbox_dir,
    struct errbuf *e);

#endif
