/* SPDX-License-Identifier: MIT */
/* Counters shared by every bouncer process of a machine: a small file in the
 * store directory (metrics.shm), mapped MAP_SHARED, holding fixed-layout
 * 64-bit counters that are only ever changed by one atomic add each. A
 * process killed at any instant leaves every counter valid (an add happened
 * or it did not); there is no lock to leave held. Rendered as Prometheus
 * text (exposition format 0.0.4) for GET /auth/metrics and bouncerctl. */
#ifndef BNC_METRICS_METRICS_H
#define BNC_METRICS_METRICS_H

#include <stdint.h>
#include "util/buf.h"
#include "util/err.h"

#define BNC_METRICS_FILE "metrics.shm"

/* Plain counters. Append only: the numbers are the file layout. */
enum bnc_metric {
    BNC_MET_CACHE_HIT = 0,    /* credential cache (credcache.c) */
    BNC_MET_CACHE_MISS,
    BNC_MET_LOGIN_OK,         /* POST /auth/login */
    BNC_MET_LOGIN_FAIL,
    BNC_MET_STORE_RECOVERY,   /* store reopened after a panic */
    BNC_MET_NCOUNTERS
};

enum bnc_metrics_outcome { BNC_MET_ALLOW = 0, BNC_MET_DENY, BNC_MET_ERROR };

enum bnc_metrics_mode {
    BNC_METRICS_RW = 0,       /* create or join, count */
    BNC_METRICS_RO            /* read an existing file (bouncerctl) */
};

/* Opens (creating, validating, replacing a file of another layout)
 * dir/metrics.shm for this process. On failure with BNC_METRICS_RW the
 * process counts in a private region instead (metrics then cover this
 * process only: bouncer_metrics_shared 0) and -1 is returned with err set,
 * for a warning. Not thread-safe: call before starting threads. */
int bnc_metrics_open(const char *dir, enum bnc_metrics_mode mode,
                     struct bnc_err *err);
/* Unmaps, freeing this process's start-time slot. */
void bnc_metrics_close(void);
/* 1 when a region (shared or private) is open. */
int bnc_metrics_active(void);

/* Counting: no-ops while no region is open (unit tests, bouncerctl). */
void bnc_metrics_count(enum bnc_metric m);
/* One decision: scheme that decided (NULL = none), outcome, HTTP status
 * (429 also counts as throttled, BNC_MET_ERROR as a store error) and how
 * long it took. */
void bnc_metrics_decision(const char *scheme, enum bnc_metrics_outcome o,
                          int status, int64_t micros);

/* Appends every metric in Prometheus text format 0.0.4. */
void bnc_metrics_render(struct bnc_buf *out);
/* Test and bouncerctl helper: the current value of a plain counter. */
uint64_t bnc_metrics_get(enum bnc_metric m);
/* Sum of decisions over every scheme, outcome and status. */
uint64_t bnc_metrics_decisions_total(void);

#define BNC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
