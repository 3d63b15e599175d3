/* SPDX-License-Identifier: MIT */
/* Brute-force protection (issue 7): failure counters per user name and per
 * client network in the store's throttle database, shared by every bouncer
 * process, with bans that double up to [throttle] max_ban.
 *
 * Use: bnc_throttle_check() BEFORE the credential is verified (no password
 * hash is computed for a banned user or network), then bnc_throttle_fail()
 * or bnc_throttle_ok() with the same ticket once the answer is known. */
#ifndef BNC_AUTH_THROTTLE_H
#define BNC_AUTH_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/store.h"
#include "util/cidr.h"

/* The detail DRF's Throttled exception gives (compat.md 2); N is put in. */
#define BNC_THROTTLE_CODE "throttled"
/* Record format version (first byte of every value). */
#define BNC_THROTTLE_RECORD_VERSION 1
/* "u:" + name (cut to BNC_USER_NAME_MAX bytes) or "n:" + network text. */
#define BNC_THROTTLE_KEY_MAX (2 + BNC_USER_NAME_MAX + 1)

/* One counter as stored (decoded). Times are unix seconds. */
struct bnc_throttle_rec {
    unsigned level;        /* bans so far in this run of failures */
    int64_t bucket;        /* start of the current window bucket */
    uint32_t cur, prev;    /* failures in the current / previous bucket */
    int64_t ban_until;     /* 0 = not banned */
    int64_t last_fail;     /* last counted failure */
    uint32_t recent[4];    /* fingerprints of the last credentials counted */
};

/* What bnc_throttle_check() found; hand it to fail/ok afterwards.
 * Caller storage, no cleanup needed. */
struct bnc_throttle_ticket {
    int active;            /* 0: throttling off or client trusted */
    int trusted;           /* client in [throttle] trusted */
    char ukey[BNC_THROTTLE_KEY_MAX]; /* "u:NAME", "" when no user */
    size_t uklen;
    char nkey[64];         /* "n:192.0.2.7/32", "n:2001:db8::/64", "n:unknown" */
    size_t nklen;
    int user_record;       /* a u: record exists (a success deletes it) */
    unsigned retry_after;  /* seconds, when banned */
    const char *banned_by; /* "user" or "network" when banned, for logs */
    uint32_t cred_fp;      /* set by the caller before fail: the network
                              counts a credential it saw last time once */
};

/* Checks the user's and the client network's counters. client NULL =
 * unknown client (one shared "n:unknown" counter); user NULL = network only
 * (tokens, sessions, JWTs). Returns 1 when banned (t->retry_after >= 1),
 * else 0. Never fails: a store error lets the request through to its
 * normal check (logged), because the credential check reads the same store
 * and will answer 500 if it is really down. */
int bnc_throttle_check(const struct bnc_throttle_conf *c, struct bnc_store *s,
                       const struct bnc_addr *client, const char *user,
                       int64_t now, struct bnc_throttle_ticket *t);
/* Counts one verified failure for t's user (if any) and network; may start
 * a ban. Nothing for an inactive ticket. With t->cred_fp set (credentials
 * other than passwords), a fingerprint among the network's last four
 * counted ones is not counted again: a browser sending its expired cookie
 * with every request, or a script retrying a revoked key, is one failure,
 * while every new guess counts. Passwords are never fingerprinted. */
void bnc_throttle_fail(const struct bnc_throttle_conf *c, struct bnc_store *s,
                       const struct bnc_throttle_ticket *t, int64_t now);
/* A success: drops the user's counter, only if one existed (a read is
 * cheap, a write is not). The network's counter stays: one valid account
 * must not wash an attacker's network clean. */
void bnc_throttle_ok(const struct bnc_throttle_conf *c, struct bnc_store *s,
                     const struct bnc_throttle_ticket *t);

/* "Request was throttled. Expected available in N seconds." into buf. */
const char *bnc_throttle_detail(unsigned retry_after, char *buf, size_t cap);

/* Removes counters that have expired (no ban running, no failure for a
 * window since the ban or the last failure, and none left in the sliding
 * window). *count (may be NULL) gets the
 * number removed. BNC_STORE_OK or the store's error code. */
int bnc_throttle_gc(const struct bnc_throttle_conf *c, struct bnc_store *s,
                    int64_t now, size_t *count);

/* For bouncerctl and tests. */
/* Key for a client network: "n:" + the /32 (IPv4) or /64 (IPv6) network
 * in text, or "n:unknown" for NULL. Returns its length. */
size_t bnc_throttle_net_key(const struct bnc_addr *client, char *buf,
                            size_t cap);
/* 0 and *r filled, or -1 for a record of another version or size. */
int bnc_throttle_decode(const unsigned char *v, size_t n,
                        struct bnc_throttle_rec *r);
/* Failures counted in the sliding window at now. */
unsigned bnc_throttle_failures(const struct bnc_throttle_conf *c,
                               const struct bnc_throttle_rec *r, int64_t now);
/* Length in seconds of the ban the next one would get. */
uint64_t bnc_throttle_next_ban(const struct bnc_throttle_conf *c,
                               const struct bnc_throttle_rec *r, int64_t now);
/* 1 when the record can be dropped (see bnc_throttle_gc). */
int bnc_throttle_expired(const struct bnc_throttle_conf *c,
                         const struct bnc_throttle_rec *r, int64_t now);

#endif
