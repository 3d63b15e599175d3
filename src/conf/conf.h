/* SPDX-License-Identifier: MIT */
/* bouncer.conf: INI sections (DESIGN 8), parsed into an immutable snapshot. */
#ifndef BNC_CONF_CONF_H
#define BNC_CONF_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"
#include "log/log.h"
#include "crypto/password.h"

struct bnc_rules;
struct bnc_cidr;

struct bnc_conf_entry {
    char *key;          /* left of the first '=' (rules keep spaces: "GET,HEAD /pub/") */
    char *value;        /* right of '=', trimmed, inline " ;"/" #" comment removed */
    unsigned line;
    int used;           /* set by the getters; leftovers are "unknown key" errors */
};

struct bnc_conf_section {
    char *name;         /* lower-case as written: "store", "basic", ... */
    unsigned line;
    struct bnc_conf_entry *entries;
    size_t nentries;
};

struct bnc_conf {
    char *file;                     /* path read, or NULL: built-in defaults */
    struct bnc_conf_section *sections;
    size_t nsections;

    /* [store] */
    char *store_path;               /* $BOUNCER_HOME overrides; default BNC_STATEDIR */
    uint64_t store_cache_bytes;     /* cache_size, default 64M */

    /* [auth] */
    char **schemes;                 /* NULL-terminated, in order; default basic, token */
    int schemes_default;            /* schemes not set: the design's defaults */
    char *realm;                    /* default "bouncer" */
    struct bnc_cidr *trusted_proxies; /* X-Forwarded-For believed only from these */
    size_t ntrusted_proxies;
    char *device_param;             /* device_header as a CGI param: "HTTP_X_DEVICE_ID" */

    /* [passwords] */
    struct bnc_argon2_params argon2; /* argon2_memory (KiB or size), argon2_time, argon2_parallelism */
    int rehash;                     /* re-hash legacy formats on login; default yes */

    /* [throttle]: failure counters and bans (src/auth/throttle.h) */
    struct bnc_throttle_conf {
        int enabled;                /* default yes */
        uint64_t user_threshold;    /* failures per user name in a window; 5 */
        uint64_t network_threshold; /* failures per /32 or /64 in a window; 20 */
        uint64_t window;            /* seconds; 15m */
        uint64_t ban;               /* first ban, seconds; 1m */
        uint64_t max_ban;           /* longest ban, seconds; 1h */
        struct bnc_cidr *trusted;   /* never counted nor banned; default none */
        size_t ntrusted;
    } throttle;

    /* [log] */
    struct bnc_log_opts log;        /* target, level, format, facility, audit */

    /* [metrics] */
    int metrics_enabled;            /* enabled: shared counters, /auth/metrics */

    /* [rules] */
    struct bnc_rules *rules;        /* default: "/ = authenticated" */
};

/* Finds the config file: explicit path, else $BOUNCER_CONF, else
 * BNC_SYSCONFDIR "/bouncer.conf" if it exists, else NULL (defaults).
 * Returns a borrowed string or NULL. *explicit is set when the file was named
 * (-c or $BOUNCER_CONF) and therefore must exist. */
const char *bnc_conf_locate(const char *cli_path, int *explicit);

/* Reads and parses path (NULL = defaults only). Core sections ([store],
 * [auth], [passwords], [throttle], [log], [rules]) are validated here; other sections are
 * kept for the schemes' configure(). Errors and warnings go to d as
 * "file:line: ...". Returns NULL if there was any error. Caller frees with
 * bnc_conf_free(). $BOUNCER_HOME, if set, replaces store_path. */
struct bnc_conf *bnc_conf_load(const char *path, struct bnc_diag *d);
/* Parses a config held in memory (tests, fuzzing); name is used in messages. */
struct bnc_conf *bnc_conf_load_mem(const char *name, const char *text,
                                   size_t len, struct bnc_diag *d);
void bnc_conf_free(struct bnc_conf *c);

/* Section by name, or NULL. */
struct bnc_conf_section *bnc_conf_section(const struct bnc_conf *c,
                                          const char *name);

/* Typed getters for a section (which may be NULL: then def is used).
 * Each marks its key used; on a bad value it adds "file:line: key: ..." to d
 * and returns -1 (out keeps def). */
int bnc_conf_get_str(const struct bnc_conf *c, struct bnc_conf_section *s,
                     const char *key, const char *def, const char **out,
                     struct bnc_diag *d);
int bnc_conf_get_bool(const struct bnc_conf *c, struct bnc_conf_section *s,
                      const char *key, int def, int *out, struct bnc_diag *d);
int bnc_conf_get_u64(const struct bnc_conf *c, struct bnc_conf_section *s,
                     const char *key, uint64_t def, uint64_t min, uint64_t max,
                     uint64_t *out, struct bnc_diag *d);
int bnc_conf_get_duration(const struct bnc_conf *c, struct bnc_conf_section *s,
                          const char *key, uint64_t def, uint64_t min,
                          uint64_t max, uint64_t *out, struct bnc_diag *d);

/* Reports every entry of s not marked used as "unknown key" (error). */
void bnc_conf_check_unused(const struct bnc_conf *c,
                           const struct bnc_conf_section *s,
                           struct bnc_diag *d);

#endif
