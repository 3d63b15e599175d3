/* SPDX-License-Identifier: MIT */
/* The credential store: one Berkeley DB Transactional Data Store environment
 * shared by every bouncer process and thread and by bouncerctl (DESIGN 6,
 * berkeley-db.md). Only store/bdb.c includes db.h. */
#ifndef BNC_STORE_STORE_H
#define BNC_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util/err.h"

/* Format version of the store layout (meta "schema"). A store written by a
 * newer bouncer is refused with a clear message. */
#define BNC_STORE_SCHEMA 1
/* Format version of one user record (first byte of the value). Version 1
 * records (no tokens_not_before) are still read. */
#define BNC_USER_RECORD_VERSION 2

#define BNC_USER_NAME_MAX 150   /* bytes of UTF-8, like Django's username */

enum bnc_store_rc {
    BNC_STORE_OK = 0,
    BNC_STORE_NOTFOUND = 1,
    BNC_STORE_EXISTS = 2,
    BNC_STORE_CONFLICT = 3,   /* record changed under us (rev mismatch) */
    BNC_STORE_ERROR = -1,     /* I/O, corrupt record, ...: logged */
    BNC_STORE_DEAD = -2       /* environment needs recovery: close and reopen (or exit) */
};

enum bnc_store_sync {
    BNC_STORE_SYNC = 0,       /* admin writes: fsync'ed at commit */
    BNC_STORE_NOSYNC          /* authorizer writes: DB_TXN_WRITE_NOSYNC, survive a process crash */
};

struct bnc_user {
    uint32_t id;              /* assigned at creation, never reused */
    char *name;
    char *hash;               /* password hash string; "" or "!" = no usable password */
    char **groups;            /* NULL-terminated, may be NULL */
    char *email;
    char *display_name;
    int disabled;
    int64_t created;          /* unix seconds */
    int64_t changed;
    int64_t not_before;       /* sessions and JWTs issued at or before this second are void (log out everywhere) */
    int64_t tokens_not_before;/* API tokens created at or before this are void (logout-all --tokens);
                                 DRF tokens survive a password change, so this is separate */
    uint64_t rev;             /* record version: +1 on every change */
};

void bnc_user_cleanup(struct bnc_user *u);   /* frees members, wipes hash */
/* Record codec, exposed for tests and fuzzing. encode: *out malloc'ed. */
int bnc_user_encode(const struct bnc_user *u, unsigned char **out, size_t *len);
int bnc_user_decode(const unsigned char *p, size_t len, struct bnc_user *u,
                    struct bnc_err *err);
/* Validates a user name: 1..BNC_USER_NAME_MAX bytes of UTF-8, no control
 * characters, no ':' (Basic cannot carry it), not starting/ending with space. */
int bnc_user_name_valid(const char *name, const char **why);
/* Group names: [A-Za-z0-9._-]{1,64}. */
int bnc_group_name_valid(const char *name);
/* 1 when a credential issued (iat, created) in second issued is void under
 * a not_before / tokens_not_before stamp: issued at or before it. Times
 * are whole seconds, so one issued in the stamp's own second may predate
 * the change; bouncerctl returns only after that second (a credential
 * issued after it returned is valid). 0 = never stamped. */
int bnc_user_stamp_voids(int64_t stamp, int64_t issued);

struct bnc_store;

struct bnc_store_opts {
    const char *path;          /* environment home directory */
    uint64_t cache_bytes;      /* written to DB_CONFIG when the env is created */
    int create;                /* create the directory (2770) and env if missing */
    int maintenance;           /* run a thread: failchk every 200 ms, checkpoint +
                                  log removal every 30 s */
    int readonly;              /* bouncer --check-config: refuse writes */
    int revive;                /* reads that meet a panic reopen the store
                                  and retry once (the daemon's choice) */
};

/* Opens (joins) the environment and databases. Clear errors in err for: a
 * missing directory, permission denied, a newer schema, a corrupt env.
 * On failure errno is EBUSY when trying again shortly may succeed (a
 * process that died inside the store is still being cleaned up).
 * Only one store per process (DB_REGISTER allows one DB_ENV per process). */
struct bnc_store *bnc_store_open(const struct bnc_store_opts *o,
                                 struct bnc_err *err);
/* Clean close: frees the registry slot. NULL-safe. */
void bnc_store_close(struct bnc_store *s);
/* 1 if a panic / DB_RUNRECOVERY was seen: the handles are unusable. */
int bnc_store_dead(const struct bnc_store *s);
/* After a panic (bnc_store_dead() == 1): waits up to 3 s for every thread to
 * leave the store, closes all handles and reopens them the way
 * bnc_store_open() did (the first process to reopen runs recovery). 0 when
 * the store is usable again (also when it was not dead); -1 with err if a
 * thread stayed stuck inside the library or the reopen failed: then only a
 * new process can recover. Thread-safe; never call it from inside a store
 * callback. */
int bnc_store_recover(struct bnc_store *s, struct bnc_err *err);
const char *bnc_store_path(const struct bnc_store *s);

/* Reads a user (copies out). OK, NOTFOUND, ERROR or DEAD. */
int bnc_store_user_get(struct bnc_store *s, const char *name,
                       struct bnc_user *out);
int bnc_store_user_get_by_id(struct bnc_store *s, uint32_t id,
                             struct bnc_user *out);
/* Creates a user: assigns id, created = changed = now, rev = 1.
 * u->id/created/changed/rev are written back. EXISTS if the name is taken. */
int bnc_store_user_add(struct bnc_store *s, struct bnc_user *u);
/* Read-modify-write of one user in one transaction with deadlock retry:
 * fn edits the record (return 0 to write, >0 to skip writing, <0 to abort
 * with ERROR). changed and rev are updated by the store. NOTFOUND if absent. */
int bnc_store_user_modify(struct bnc_store *s, const char *name,
                          int (*fn)(struct bnc_user *u, void *arg), void *arg,
                          enum bnc_store_sync sync);
int bnc_store_user_del(struct bnc_store *s, const char *name);
/* Calls fn for every user in name order (copies); stops if fn returns != 0. */
int bnc_store_user_foreach(struct bnc_store *s,
                           int (*fn)(const struct bnc_user *u, void *arg),
                           void *arg);

/* ---- Bulk user upsert (bouncerctl import) ---------------------------------
 * Which fields of up_user an import sets; the others keep the value an
 * existing user has (a new user gets "" / NULL / 0 for them). */
#define BNC_USER_PUT_HASH 0x01u       /* password hash, see below */
#define BNC_USER_PUT_EMAIL 0x02u
#define BNC_USER_PUT_NAME 0x04u       /* display_name */
#define BNC_USER_PUT_DISABLED 0x08u
#define BNC_USER_PUT_GROUPS 0x10u     /* replace the user's groups */
#define BNC_USER_PUT_GROUPS_ADD 0x20u /* add to the user's groups */
#define BNC_USER_PUT_ID 0x40u         /* new user: take up_user.id if free */
#define BNC_USER_PUT_TIMES 0x80u      /* new user: created (if > 0) and
                                         not_before from up_user */
/* With BNC_USER_PUT_DISABLED: also enable an existing user disabled in
 * bouncer. Without it a bouncer-side disable stays (up_disabled_kept):
 * re-running an import must not undo an admin's "user disable". */
#define BNC_USER_PUT_DISABLED_SYNC 0x100u

enum bnc_user_put_result {
    BNC_USER_PUT_ADDED = 1,
    BNC_USER_PUT_UPDATED,
    BNC_USER_PUT_UNCHANGED
};

struct bnc_user_put {
    struct bnc_user up_user;  /* in: the wanted record (name always set) */
    unsigned up_fields;       /* in: BNC_USER_PUT_* */
    int up_result;            /* out: enum bnc_user_put_result */
    int up_id_taken;          /* out: BNC_USER_PUT_ID asked, id was in use */
    int up_hash_kept;         /* out: the hash was changed in bouncer since
                                 this same hash was imported: kept */
    int up_disabled_kept;     /* out: disabled in bouncer, enabled in the
                                 source: kept disabled (no ..._DISABLED_SYNC) */
};

/*
 * Adds or updates n users, batch users per transaction: a batch is written
 * whole or not at all, so an interrupted import leaves no half user.
 * An unchanged user is not written (re-running an import writes nothing).
 * The hash: the SHA-256 of every imported hash is kept in import.db; when
 * a user's hash differs from the incoming one but the incoming one is the
 * hash imported last time, the user's own hash is newer (re-hashed on
 * login, changed with passwd) and stays. dry_run: reads only, results as
 * if written. Every record must encode (bnc_user_encode), or the batch
 * fails. *done (may be NULL) counts the items of committed batches. OK or
 * a store error (earlier batches stay).
 */
int bnc_store_user_put_many(struct bnc_store *s, struct bnc_user_put *p,
                            size_t n, size_t batch, int dry_run,
                            size_t *done);

/* ---- API tokens (DRF TokenAuthentication, done right) -------------------
 * tokens.db: key = SHA-256 of the secret key (the key itself is never
 * stored), value = encoded token record. Secondary indexes by public id and
 * by user. Last-used times live in tokens_used.db (write-hot, separate file:
 * berkeley-db.md 3), updated at most once a minute per token. */
#define BNC_TOKEN_RECORD_VERSION 1
#define BNC_TOKEN_ID_LEN 16         /* "tk_" + 13 base32 chars: public, safe to log */

struct bnc_token {
    char id[BNC_TOKEN_ID_LEN + 1];  /* public identifier */
    unsigned char digest[32];       /* SHA-256 of the key */
    char *user;                     /* user name */
    char *label;
    int64_t created;
    int64_t expires;                /* 0 = never */
    int64_t last_used;              /* from tokens_used.db on get; 0 = never */
    char **scopes;                  /* NULL-terminated, may be NULL */
    char **cidrs;                   /* allowed client networks, NULL = any */
    char *device;                   /* bound device id, NULL = none */
};

void bnc_token_cleanup(struct bnc_token *t);
int bnc_token_encode(const struct bnc_token *t, unsigned char **out,
                     size_t *len);
int bnc_token_decode(const unsigned char *p, size_t len, struct bnc_token *t,
                     struct bnc_err *err);

/* Stores a new token (t->id must be set and unique; EXISTS otherwise).
 * NOTFOUND if t->user does not exist (checked in the same transaction). */
int bnc_store_token_add(struct bnc_store *s, const struct bnc_token *t);
/* Looks a token up by the SHA-256 of its key: one get. OK/NOTFOUND/ERROR. */
int bnc_store_token_get(struct bnc_store *s, const unsigned char digest[32],
                        struct bnc_token *out);
int bnc_store_token_get_by_id(struct bnc_store *s, const char *id,
                              struct bnc_token *out);
/* Records a use at time now unless one was recorded less than 60 s ago
 * (NOSYNC write into tokens_used.db). Never fails the request. */
void bnc_store_token_touch(struct bnc_store *s, const char *id, int64_t now);
/* Revokes (deletes) one token by id, or every token of a user; *count gets
 * the number removed. NOTFOUND if none. */
int bnc_store_token_revoke(struct bnc_store *s, const char *id);
int bnc_store_token_revoke_user(struct bnc_store *s, const char *user,
                                size_t *count);
/* Tokens of user (NULL = all), copies, in id order; stops if fn != 0. */
int bnc_store_token_foreach(struct bnc_store *s, const char *user,
                            int (*fn)(const struct bnc_token *t, void *arg),
                            void *arg);
/* Removes tokens past their expiry as of now; *count (may be NULL) removed. */
int bnc_store_token_gc(struct bnc_store *s, int64_t now, size_t *count);
/* Bulk load for benchmarks and imports: n tokens in transactions of batch
 * (DB_TXN_NOSYNC, one log flush at the end); stops at the first failing
 * batch, keeping the earlier ones. */
int bnc_store_token_add_many(struct bnc_store *s, const struct bnc_token *t,
                             size_t n, size_t batch);

/* ---- Sessions (DRF SessionAuthentication behind Apache and lighttpd) -----
 * sessions.db: key = SHA-256 of the session id (the cookie value, never
 * stored), value = encoded session record. Secondary indexes by public id
 * (sessions_by_id.db) and by user (sessions_by_user.db, duplicates).
 * Last-seen times live in sessions_seen.db (write-hot, separate file),
 * updated at most once a minute per session. Logins are the authorizer's
 * own writes: DB_TXN_WRITE_NOSYNC, which survives a killed process. */
#define BNC_SESSION_RECORD_VERSION 1
#define BNC_SESSION_ID_LEN 16       /* "ss_" + 13 base32 chars: public, safe to log */

struct bnc_session {
    char id[BNC_SESSION_ID_LEN + 1];  /* public identifier */
    unsigned char digest[32];         /* SHA-256 of the secret session id */
    char *user;                       /* user name */
    int64_t created;
    int64_t last_seen;                /* from sessions_seen.db (get fills it); 0 = never */
    int64_t idle_timeout;             /* seconds without use before it ends; 0 = none */
    int64_t expires;                  /* absolute end (unix seconds) */
    unsigned char csrf[32];           /* the session's CSRF secret */
    char *client;                     /* address at login, for display */
    char *user_agent;                 /* at login, for display (truncated to 256) */
    char *device;                     /* bound device id, NULL = none */
};

void bnc_session_cleanup(struct bnc_session *t);  /* wipes csrf */
int bnc_session_encode(const struct bnc_session *t, unsigned char **out,
                       size_t *len);
int bnc_session_decode(const unsigned char *p, size_t len,
                       struct bnc_session *t, struct bnc_err *err);

/* Stores a new session (id unique, EXISTS otherwise; NOTFOUND if the user
 * does not exist), with the given durability; last_seen = created. */
int bnc_store_session_add(struct bnc_store *s, const struct bnc_session *t,
                          enum bnc_store_sync sync);
/* By the SHA-256 of the secret id; fills last_seen (two gets). */
int bnc_store_session_get(struct bnc_store *s, const unsigned char digest[32],
                          struct bnc_session *out);
int bnc_store_session_get_by_id(struct bnc_store *s, const char *id,
                                struct bnc_session *out);
/* Records a use at now unless one was recorded less than 60 s ago
 * (NOSYNC). Never fails the request. */
void bnc_store_session_touch(struct bnc_store *s, const char *id, int64_t now);
/* Ends one session (logout: by digest; admin: by id) or all of a user's.
 * NOTFOUND if none. *count may be NULL. */
int bnc_store_session_del(struct bnc_store *s, const unsigned char digest[32],
                          enum bnc_store_sync sync);
int bnc_store_session_revoke(struct bnc_store *s, const char *id);
int bnc_store_session_revoke_user(struct bnc_store *s, const char *user,
                                  size_t *count);
/* Sessions of user (NULL = all), copies with last_seen, in id order. */
int bnc_store_session_foreach(struct bnc_store *s, const char *user,
                              int (*fn)(const struct bnc_session *t, void *arg),
                              void *arg);
/* Bulk load for benchmarks (NOSYNC batches, one log flush at the end). */
int bnc_store_session_add_many(struct bnc_store *s,
                               const struct bnc_session *t, size_t n,
                               size_t batch);
/* Removes sessions past expires or idle, as of now; *count removed. */
int bnc_store_session_gc(struct bnc_store *s, int64_t now, size_t *count);

/* ---- Small keyed records (JWT denylist, refresh families, throttling) -----
 * Plain key -> value databases, one file each, with no secondary index.
 * The modules that own them (store/jwt.c, store/throttle.c ...) define the
 * key and value formats; values should start with a format version byte. */
enum bnc_store_kv {
    BNC_KV_JWT_DENY = 0,   /* jwt_deny.db: revoked jti -> expiry */
    BNC_KV_JWT_FAMILY,     /* jwt_families.db: refresh-token family -> state */
    BNC_KV_THROTTLE,       /* throttle.db: "u:NAME" / "n:NET" -> failure counter */
    BNC_KV_IMPORT,         /* import.db: user name -> SHA-256 of the last imported hash */
    BNC_KV_COUNT
};

/* What a modify or sweep callback asks for. */
enum bnc_store_kv_op {
    BNC_KV_KEEP = 0,       /* leave the record as it is (or absent) */
    BNC_KV_WRITE,          /* store *newv (malloc'ed by the callback; freed by the store) */
    BNC_KV_DELETE          /* remove the record */
};

/* One get, copied out into *val (malloc'ed, caller frees). OK, NOTFOUND,
 * ERROR or DEAD. A store opened read-only before the file existed answers
 * NOTFOUND. */
int bnc_store_kv_get(struct bnc_store *s, enum bnc_store_kv db,
                     const void *key, size_t klen, unsigned char **val,
                     size_t *vlen);
int bnc_store_kv_put(struct bnc_store *s, enum bnc_store_kv db,
                     const void *key, size_t klen, const void *val,
                     size_t vlen, enum bnc_store_sync sync);
/* NOTFOUND if absent. */
int bnc_store_kv_del(struct bnc_store *s, enum bnc_store_kv db,
                     const void *key, size_t klen, enum bnc_store_sync sync);
/*
 * Read-modify-write of one record in one transaction (retried from scratch
 * on a lock conflict, so fn must be repeatable): fn sees the current value
 * (old == NULL when absent) and returns an enum bnc_store_kv_op, or < 0 to
 * abort (ERROR). With BNC_KV_WRITE it sets *newv (malloc) and *newlen.
 */
typedef int (*bnc_store_kv_modify_fn)(const unsigned char *old, size_t oldlen,
                                      unsigned char **newv, size_t *newlen,
                                      void *arg);
int bnc_store_kv_modify(struct bnc_store *s, enum bnc_store_kv db,
                        const void *key, size_t klen,
                        bnc_store_kv_modify_fn fn, void *arg,
                        enum bnc_store_sync sync);
/*
 * Visits every record in key order, in batches (one short transaction per
 * batch, no lock held while fn runs). fn returns BNC_KV_KEEP to go on,
 * BNC_KV_DELETE to remove that record (only if it did not change since it
 * was read), or < 0 to stop. *deleted (may be NULL) counts removals.
 */
typedef int (*bnc_store_kv_visit_fn)(const unsigned char *key, size_t klen,
                                     const unsigned char *val, size_t vlen,
                                     void *arg);
int bnc_store_kv_foreach(struct bnc_store *s, enum bnc_store_kv db,
                         bnc_store_kv_visit_fn fn, void *arg,
                         size_t *deleted);

/* Admin: human-readable statistics, verification, hot backup into dir
 * (which must not exist or be empty). 0 or -1 with err. */
int bnc_store_stats(struct bnc_store *s, FILE *out, struct bnc_err *err);
int bnc_store_verify(struct bnc_store *s, FILE *out, struct bnc_err *err);
int bnc_store_backup(struct bnc_store *s, const char *dir, struct bnc_err *err);
/* One maintenance round (failchk, checkpoint, log removal); the maintenance
 * thread calls it, bouncerctl may too. */
int bnc_store_maintain(struct bnc_store *s);

#endif
