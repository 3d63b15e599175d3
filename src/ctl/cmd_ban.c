/* SPDX-License-Identifier: MIT */
/* bouncerctl ban commands: list the failure counters and bans of the
 * brute-force throttle (issue 7), clear a user's, a network's or all. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/throttle.h"
#include "ctl/ctl.h"
#include "util/cidr.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_CTL_BAN_COLS 4

/* The key as text (keys hold user names: bytes we did not choose). */
static char *
bnc_ctl_ban_key(const unsigned char *key, size_t klen)
{
    return bnc_strndup((const char *)key, klen);
}

/* ---- ban list ------------------------------------------------------------ */

struct bnc_ctl_ban_list {
    const struct bnc_throttle_conf *conf;
    int json;
    int64_t now;
    size_t nrows;
    char **cells;               /* nrows * BNC_CTL_BAN_COLS, owned */
    struct bnc_buf out;         /* JSON */
};

static int
bnc_ctl_ban_list_one(const unsigned char *key, size_t klen,
                     const unsigned char *val, size_t vlen, void *arg)
{
    struct bnc_ctl_ban_list *l = arg;
    struct bnc_throttle_rec r;
    struct bnc_buf b;
    char *k, **row, tbuf[48];
    int banned;

    /* Expired and unreadable records are gc's business, not the admin's. */
    if (bnc_throttle_decode(val, vlen, &r) != 0 ||
        bnc_throttle_expired(l->conf, &r, l->now))
        return BNC_KV_KEEP;
    k = bnc_ctl_ban_key(key, klen);
    banned = r.ban_until > l->now;
    if (l->json) {
        bnc_buf_puts(&l->out, l->nrows > 0 ? ",\n  " : "\n  ");
        bnc_buf_puts(&l->out, "{\"key\": ");
        bnc_buf_json_str(&l->out, k);
        bnc_buf_printf(&l->out, ", \"kind\": \"%s\", \"failures\": %u, "
                       "\"banned\": %s, \"banned_until\": ",
                       k[0] == 'u' ? "user" : "network",
                       bnc_throttle_failures(l->conf, &r, l->now),
                       banned ? "true" : "false");
        if (banned)
            bnc_buf_printf(&l->out, "%lld", (long long)r.ban_until);
        else
            bnc_buf_puts(&l->out, "null");
        bnc_buf_printf(&l->out, ", \"bans\": %u, \"next_ban\": %llu}",
                       r.level,
                       (unsigned long long)bnc_throttle_next_ban(l->conf, &r,
                                                                 l->now));
        l->nrows++;
        free(k);
        return BNC_KV_KEEP;
    }
    l->cells = bnc_realloc(l->cells, (l->nrows + 1) * BNC_CTL_BAN_COLS *
                                         sizeof(*l->cells));
    row = l->cells + l->nrows * BNC_CTL_BAN_COLS;
    bnc_buf_init(&b);
    row[0] = bnc_strdup(bnc_ctl_vis(&b, k));
    bnc_buf_reset(&b);
    bnc_buf_printf(&b, "%u", bnc_throttle_failures(l->conf, &r, l->now));
    row[1] = bnc_strdup(bnc_buf_str(&b));
    row[2] = bnc_strdup(banned ? bnc_ctl_time(tbuf, sizeof(tbuf),
                                                  r.ban_until)
                               : "-");
    bnc_buf_reset(&b);
    bnc_buf_printf(&b, "%llus", (unsigned long long)bnc_throttle_next_ban(
                                    l->conf, &r, l->now));
    row[3] = bnc_strdup(bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    free(k);
    l->nrows++;
    return BNC_KV_KEEP;
}

int
bnc_ctl_ban_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    static const char *const head[BNC_CTL_BAN_COLS] = {
        "KEY", "FAILURES", "BANNED-UNTIL", "NEXT-BAN"};
    struct bnc_ctl_ban_list l;
    size_t i;
    int rc = BNC_CTL_EXIT_FAIL, src;

    memset(&l, 0, sizeof(l));
    bnc_buf_init(&l.out);
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    l.conf = &ctx->conf->throttle;
    l.json = a->json;
    l.now = (int64_t)time(NULL);
    bnc_buf_putc(&l.out, '[');
    src = bnc_store_kv_foreach(ctx->store, BNC_KV_THROTTLE,
                               bnc_ctl_ban_list_one, &l, NULL);
    if (src != BNC_STORE_OK && src != BNC_STORE_NOTFOUND) {
        rc = bnc_ctl_store_failed_what(src, "list bans");
        goto out;
    }
    if (l.json) {
        bnc_buf_puts(&l.out, l.nrows > 0 ? "\n]\n" : "]\n");
        fputs(bnc_buf_str(&l.out), stdout);
    } else {
        bnc_ctl_print_table(head, BNC_CTL_BAN_COLS, l.cells, l.nrows);
    }
    rc = BNC_CTL_EXIT_OK;
out:
    for (i = 0; i < l.nrows * BNC_CTL_BAN_COLS && l.cells != NULL; i++)
        free(l.cells[i]);
    free(l.cells);
    bnc_buf_cleanup(&l.out);
    return rc;
}

/* ---- ban clear ----------------------------------------------------------- */

struct bnc_ctl_ban_clear {
    const struct bnc_cidr *net;   /* NULL: every record (--all) */
};

/* A network key "n:ADDR/LEN" inside the block asked for. */
static int
bnc_ctl_ban_clear_one(const unsigned char *key, size_t klen,
                      const unsigned char *val, size_t vlen, void *arg)
{
    struct bnc_ctl_ban_clear *c = arg;
    struct bnc_cidr k;
    char *s;
    int inside;

    (void)val;
    (void)vlen;
    if (c->net == NULL)
        return BNC_KV_DELETE;
    if (klen < 3 || key[0] != 'n' || key[1] != ':')
        return BNC_KV_KEEP;
    s = bnc_ctl_ban_key(key + 2, klen - 2);
    inside = bnc_cidr_parse(s, &k, NULL) == 0 &&
             k.prefix >= c->net->prefix &&
             bnc_cidr_match(c->net, &k.net);
    free(s);
    return inside ? BNC_KV_DELETE : BNC_KV_KEEP;
}

int
bnc_ctl_ban_clear(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_ban_clear c;
    struct bnc_cidr net;
    struct bnc_buf vis;
    char key[BNC_THROTTLE_KEY_MAX];
    size_t n = 0, len;
    int rc = BNC_CTL_EXIT_FAIL, src, host_bits = 0;
    int modes = (a->npos > 0) + (a->network != NULL) + (a->all != 0);

    bnc_buf_init(&vis);
    if (modes != 1) {
        bnc_ctl_errx("ban clear needs exactly one of USER, --network CIDR, "
                     "--all");
        rc = BNC_CTL_EXIT_USAGE;
        goto out;
    }
    memset(&c, 0, sizeof(c));
    if (a->network != NULL) {
        if (bnc_cidr_parse(a->network, &net, &host_bits) != 0) {
            bnc_ctl_errx("--network: expected an address or CIDR block like "
                         "192.0.2.0/24 or 2001:db8::/48%s, got '%s'",
                         host_bits ? " (host bits set beyond the prefix)" : "",
                         bnc_ctl_vis(&vis, a->network));
            rc = BNC_CTL_EXIT_USAGE;
            goto out;
        }
        c.net = &net;
    }
    if (a->npos > 0) {
        len = strlen(a->pos[0]);
        if (len == 0 || len > BNC_USER_NAME_MAX) {
            bnc_ctl_errx("USER: expected a user name of 1 to %d bytes",
                         BNC_USER_NAME_MAX);
            rc = BNC_CTL_EXIT_USAGE;
            goto out;
        }
    }
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    if (a->npos > 0) {
        /* Names that do not exist have counters too (so a ban tells
         * nothing): no "no such user" check here. */
        snprintf(key, sizeof(key), "u:%s", a->pos[0]);
        src = bnc_store_kv_del(ctx->store, BNC_KV_THROTTLE, key, strlen(key),
                               BNC_STORE_SYNC);
        if (src == BNC_STORE_NOTFOUND) {
            printf("no counter for user %s\n", bnc_ctl_vis(&vis, a->pos[0]));
            rc = BNC_CTL_EXIT_OK;
            goto out;
        }
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_store_failed_what(src, "clear the counter");
            goto out;
        }
        printf("cleared the counter of user %s\n",
               bnc_ctl_vis(&vis, a->pos[0]));
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    src = bnc_store_kv_foreach(ctx->store, BNC_KV_THROTTLE,
                               bnc_ctl_ban_clear_one, &c, &n);
    if (src != BNC_STORE_OK && src != BNC_STORE_NOTFOUND) {
        rc = bnc_ctl_store_failed_what(src, "clear counters");
        goto out;
    }
    printf("cleared %zu counter%s\n", n, n == 1 ? "" : "s");
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_buf_cleanup(&vis);
    return rc;
}
