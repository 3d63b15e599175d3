/* SPDX-License-Identifier: MIT */
/* The audit line of an admin change (bnc_ctl_audit), and which bouncerctl
 * verbs are changes. A line goes to the [log] audit sink (else target);
 * bouncerctl cannot reach the web server's error log, so a sink of stderr
 * means syslog here (as sudo does), never the admin's terminal. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "log/log.h"
#include "util/str.h"

/* Verbs that change the store, audited by bnc_ctl_dispatch_audit(). from_args:
 * the target is the first argument or --user; 0: only what the command
 * set in ctx->audit_target once it had validated it (a token or session
 * "id" that turns out to be a pasted key or cookie must not be logged). */
static const struct {
    const char *cmd;
    int from_args;
} bnc_ctl_audit_verbs[] = {
    {"user add", 1},      {"user passwd", 1},  {"user del", 1},
    {"user disable", 1},  {"user enable", 1},  {"group add", 1},
    {"group del", 1},     {"token create", 1}, {"token revoke", 0},
    {"session revoke", 0}, {"db init", 0},     {"db backup", 1},
    /* Imports change users; export hands out every password hash. */
    {"import htpasswd", 1}, {"import django", 1}, {"import bouncer", 1},
    {"export", 0},        {"db gc", 0},
    {"user logout-all", 1}, {"jwt revoke", 0},
    /* Lifts brute-force bans: USER, or --network / --all below. */
    {"ban clear", 1},
    {NULL, 0}
};

void
bnc_ctl_audit_setup(struct bnc_log_opts *lo, const struct bnc_conf *conf)
{
    lo->audit_set = 1;
    if (conf->log.audit_set) {
        lo->audit = conf->log.audit;
        lo->audit_file = conf->log.audit_file;
    } else {
        lo->audit = conf->log.target;
        lo->audit_file = conf->log.file;
    }
    if (lo->audit == BNC_LOG_STDERR)
        lo->audit = BNC_LOG_SYSLOG;
}

void
bnc_ctl_audit(struct bnc_ctl *ctx, const char *action, const char *target,
              int rc, const char *detail)
{
    struct bnc_log_admin a;
    struct passwd pw, *res = NULL;
    char pwbuf[1024], uidname[32];

    /* No configuration loaded: the command stopped before any change. */
    if (ctx->conf == NULL)
        return;
    ctx->audited = 1;
    memset(&a, 0, sizeof(a));
    a.uid = (long)getuid();
    if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
        res != NULL) {
        a.actor = pw.pw_name;
    } else {
        snprintf(uidname, sizeof(uidname), "uid:%ld", a.uid);
        a.actor = uidname;
    }
    a.action = action;
    a.target = target;
    a.outcome = rc == BNC_CTL_EXIT_OK ? "ok" : "fail";
    a.detail = detail;
    bnc_log_admin(&a);
}

void
bnc_ctl_dispatch_audit(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                       int rc)
{
    const char *target = ctx->audit_target[0] ? ctx->audit_target : NULL;
    struct bnc_buf users;
    size_t i;

    if (ctx->audited)
        return;
    for (i = 0; bnc_ctl_audit_verbs[i].cmd != NULL; i++)
        if (strcmp(bnc_ctl_audit_verbs[i].cmd, a->cmd) == 0)
            break;
    if (bnc_ctl_audit_verbs[i].cmd == NULL)
        return;
    if (target == NULL && a->user != NULL)
        target = a->user;
    if (target == NULL && bnc_ctl_audit_verbs[i].from_args && a->npos > 0)
        target = a->pos[0];
    if (target == NULL && strcmp(a->cmd, "db init") == 0 && ctx->conf != NULL)
        target = ctx->conf->store_path;
    if (target == NULL && strcmp(a->cmd, "ban clear") == 0)
        target = a->network != NULL ? a->network : a->all ? "--all" : NULL;
    bnc_buf_init(&users);
    if (strncmp(a->cmd, "group ", 6) == 0 && ctx->audit_detail[0] == '\0') {
        bnc_buf_puts(&users, "users=");
        for (i = 1; i < a->npos; i++) {
            bnc_buf_puts(&users, i > 1 ? "," : "");
            bnc_buf_puts(&users, a->pos[i]);
        }
        bnc_strlcpy(ctx->audit_detail, bnc_buf_str(&users),
                    sizeof(ctx->audit_detail));
    }
    bnc_ctl_audit(ctx, a->cmd, target, rc,
                  ctx->audit_detail[0] ? ctx->audit_detail : NULL);
    bnc_buf_cleanup(&users);
}
