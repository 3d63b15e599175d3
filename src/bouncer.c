/* SPDX-License-Identifier: MIT */
/* bouncer: the FastCGI Authorizer. Start-up order (STYLE 9): options ->
 * config -> log -> store -> schemes -> FastCGI workers. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/decide.h"
#include "auth/rules_check.h"
#include "conf/conf.h"
#include "fcgi/loop.h"
#include "fcgi/request.h"
#include "fcgi/responder.h"
#include "fcgi/response.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "runtime.h"
#include "store/store.h"
#include "util/str.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static struct bnc_store *bnc_main_store;
static const char *bnc_main_conf_path; /* as located at start, reused on SIGHUP */

static void
bnc_main_usage(FILE *f)
{
    fprintf(f,
            "usage: bouncer [-c FILE] [--listen ADDR] [--threads N]\n"
            "       bouncer [-c FILE] -t|--check-config\n"
            "       bouncer --version\n"
            "\n"
            "  -c, --config FILE   configuration file (default $BOUNCER_CONF, "
            "then %s/bouncer.conf)\n"
            "  -l, --listen ADDR   listen on unix:/path or host:port instead of "
            "the socket on fd 0\n"
            "  -T, --threads N     worker threads (default 1)\n"
            "  -t, --check-config  check the configuration and the store, "
            "then exit\n"
            "\nSee bouncer(8) and bouncer.conf(5).\n",
            BNC_SYSCONFDIR);
}

/* Formats the decision's log line: never a credential. */
static void
bnc_main_log(const struct bnc_request *req, const struct bnc_decision *d,
             struct bnc_log_line *line)
{
    struct bnc_log_decision ld;

    memset(&ld, 0, sizeof(ld));
    ld.client = req->client;
    ld.method = req->method;
    /* The path only: query strings carry reset keys and api_key=... */
    ld.uri = req->uri;
    ld.uri_len = strcspn(req->uri, "?");
    ld.scheme = d->scheme;
    ld.user = d->authenticated ? d->id.user : NULL;
    ld.cred_id = d->authenticated ? d->id.cred_id : NULL;
    ld.outcome = d->outcome == BNC_OUT_ALLOW   ? "allow"
                 : d->outcome == BNC_OUT_ERROR ? "error"
                                               : "deny";
    ld.status = d->status;
    ld.reason = d->reason;
    ld.micros = bnc_request_elapsed_us(req);
    bnc_log_decision_format(&ld, line);
    bnc_metrics_decision(d->scheme, d->outcome == BNC_OUT_ALLOW ? BNC_MET_ALLOW
                                    : d->outcome == BNC_OUT_ERROR
                                        ? BNC_MET_ERROR
                                        : BNC_MET_DENY,
                         d->status, ld.micros);
}

static void
bnc_main_handle(char **envp, struct bnc_io *in, struct bnc_buf *out,
                struct bnc_log_line *log)
{
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_decision d;
    struct bnc_runtime *rt;

    bnc_request_init(&req, envp);
    bnc_response_init(&resp);
    memset(&d, 0, sizeof(d));
    rt = bnc_runtime_acquire();
    if (rt == NULL) {
        d.outcome = BNC_OUT_ERROR;
        d.status = 500;
        snprintf(d.reason, sizeof(d.reason), "no configuration loaded");
        bnc_response_json_error(&resp, 500,
                                "Authentication is temporarily unavailable.",
                                "service_unavailable");
    } else {
        bnc_request_resolve_client(&req, rt->conf->trusted_proxies,
                                   rt->conf->ntrusted_proxies);
        if (req.role == BNC_ROLE_RESPONDER) {
            bnc_responder_handle(rt, &req, in, &resp, &d);
        } else {
            /* Authorizer (Apache, lighttpd) or nginx auth_request: never
             * read the body here (web-servers.md 1). */
            bnc_decide(rt, &req, &d);
            bnc_decision_respond(rt, &req, &d, &resp);
        }
    }
    bnc_response_serialize(&resp, out);
    bnc_main_log(&req, &d, log);
    bnc_decision_cleanup(&d);
    bnc_response_cleanup(&resp);
    bnc_runtime_release(rt);
}

/* Config diagnostics go to the log (the server's error log). */
static void
bnc_main_print_diag(const struct bnc_diag *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        bnc_log(strstr(d->lines[i], "warning: ") ? BNC_LOG_WARN : BNC_LOG_ERR,
                "%s", d->lines[i]);
}

/* Builds a runtime from the config file; NULL with diagnostics logged. */
static struct bnc_runtime *
bnc_main_build(const char *path, struct bnc_store *store)
{
    struct bnc_diag d;
    struct bnc_conf *conf;
    struct bnc_runtime *rt = NULL;

    bnc_diag_init(&d);
    conf = bnc_conf_load(path, &d);
    if (conf != NULL)
        rt = bnc_runtime_new(conf, store, &d);
    bnc_main_print_diag(&d);
    bnc_diag_cleanup(&d);
    return rt;
}

static void
bnc_main_reload(void)
{
    struct bnc_runtime *rt;

    /* logrotate renamed the files: reopen them even if the new config
     * turns out to be bad. */
    bnc_log_reopen();
    rt = bnc_main_build(bnc_main_conf_path, bnc_main_store);
    if (rt == NULL) {
        bnc_log(BNC_LOG_ERR, "reload failed: keeping the running configuration");
        return;
    }
    if (strcmp(bnc_store_path(bnc_main_store), rt->conf->store_path) != 0)
        bnc_log(BNC_LOG_WARN, "reload: [store] path changed to %s; it takes "
                "effect only after a restart", rt->conf->store_path);
    bnc_log_setup(&rt->conf->log);
    bnc_runtime_install(rt);
    bnc_log(BNC_LOG_INFO, "configuration reloaded");
}

static int
bnc_main_fatal(void)
{
    return bnc_main_store != NULL && bnc_store_dead(bnc_main_store);
}

/* The store panicked (another process died inside Berkeley DB): reopen it
 * in place rather than exit, so this process keeps answering. */
static int
bnc_main_recover(void)
{
    struct bnc_err err;

    bnc_err_clear(&err);
    if (bnc_store_recover(bnc_main_store, &err) == 0) {
        bnc_metrics_count(BNC_MET_STORE_RECOVERY);
        return 0;
    }
    bnc_log(BNC_LOG_ERR, "%s; exiting so that a fresh process starts",
            err.msg);
    return -1;
}

/* --check-config: parse, configure every scheme, open the store. */
static int
bnc_main_check(const char *path)
{
    struct bnc_diag d;
    struct bnc_conf *conf;
    struct bnc_runtime *rt = NULL;
    struct bnc_store *store = NULL;
    struct bnc_store_opts so;
    struct bnc_err err;
    int ok;

    bnc_diag_init(&d);
    bnc_err_clear(&err);
    conf = bnc_conf_load(path, &d);
    if (conf != NULL) {
        memset(&so, 0, sizeof(so));
        so.path = conf->store_path;
        so.cache_bytes = conf->store_cache_bytes;
        so.readonly = 1;
        store = bnc_store_open(&so, &err);
        if (store == NULL)
            bnc_diag_error(&d, NULL, 0, "%s", err.msg);
        /* Before bnc_runtime_new(), which takes conf over. */
        bnc_rules_lint(conf, store, &d);
        rt = bnc_runtime_new(conf, store, &d);
    }
    bnc_diag_print(&d, stderr);
    ok = rt != NULL && d.nerrors == 0;
    if (ok)
        printf("configuration OK%s%s\n", path ? ": " : " (built-in defaults)",
               path ? path : "");
    if (rt != NULL)
        bnc_runtime_release(rt);
    bnc_store_close(store);
    bnc_diag_cleanup(&d);
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 'T'},
        {"check-config", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cli_conf = NULL, *listen = NULL;
    struct bnc_loop_opts lo;
    struct bnc_store_opts so;
    struct bnc_runtime *rt;
    struct bnc_err err;
    struct bnc_diag d;
    struct bnc_conf *conf;
    uint64_t threads = 1;
    int c, check = 0, explicit = 0, cgi, status;

    while ((c = getopt_long(argc, argv, "c:l:T:tVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': cli_conf = optarg; break;
        case 'l': listen = optarg; break;
        case 'T':
            if (bnc_parse_u64(optarg, 256, &threads) != 0 || threads == 0) {
                fprintf(stderr, "bouncer: --threads: expected 1..256, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 't': check = 1; break;
        case 'V': printf("bouncer %s\n", PACKAGE_VERSION); return 0;
        case 'h': bnc_main_usage(stdout); return 0;
        default: bnc_main_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bouncer: unexpected argument '%s'\n", argv[optind]);
        bnc_main_usage(stderr);
        return 2;
    }
    /* Group members must be able to use the store's files (berkeley-db.md 8). */
    umask(007);
    bnc_main_conf_path = bnc_conf_locate(cli_conf, &explicit);
    (void)explicit; /* a named file that is missing fails to load below */
    if (check)
        return bnc_main_check(bnc_main_conf_path);

    cgi = listen == NULL && !bnc_loop_fd0_is_socket();
    if (cgi && getenv("GATEWAY_INTERFACE") == NULL) {
        fprintf(stderr, "bouncer: standard input is not a FastCGI socket.\n"
                "Let the web server start bouncer, or use --listen ADDR "
                "(see bouncer(8)).\n");
        return 2;
    }
    bnc_diag_init(&d);
    conf = bnc_conf_load(bnc_main_conf_path, &d);
    bnc_main_print_diag(&d);
    bnc_diag_cleanup(&d);
    if (conf == NULL) {
        bnc_log(BNC_LOG_ERR, "configuration %s is invalid; not starting",
                bnc_main_conf_path ? bnc_main_conf_path : "(defaults)");
        return 1;
    }
    bnc_log_setup(&conf->log);
    memset(&so, 0, sizeof(so));
    so.path = conf->store_path;
    so.cache_bytes = conf->store_cache_bytes;
    so.maintenance = !cgi;
    so.revive = !cgi;
    bnc_err_clear(&err);
    bnc_main_store = bnc_store_open(&so, &err);
    if (bnc_main_store == NULL) {
        bnc_log(BNC_LOG_ERR, "%s; not starting", err.msg);
        bnc_conf_free(conf);
        return 1;
    }
    /* Schemes are configured against the open store. */
    bnc_diag_init(&d);
    rt = bnc_runtime_new(conf, bnc_main_store, &d);
    bnc_main_print_diag(&d);
    bnc_diag_cleanup(&d);
    if (rt == NULL) {
        bnc_store_close(bnc_main_store);
        return 1;
    }
    bnc_runtime_install(rt);
    json_object_seed(0);
    /* Counters shared with every bouncer process of the store. */
    if (rt->conf->metrics_enabled &&
        bnc_metrics_open(bnc_store_path(bnc_main_store), BNC_METRICS_RW,
                         &err) != 0)
        bnc_log(BNC_LOG_WARN, "metrics: %s; counting for this process only",
                err.msg);

    memset(&lo, 0, sizeof(lo));
    lo.listen = listen;
    lo.threads = (int)threads;
    lo.handler = bnc_main_handle;
    lo.reload = bnc_main_reload;
    lo.fatal = bnc_main_fatal;
    lo.recover = bnc_main_recover;
    if (cgi) {
        status = bnc_loop_cgi(&lo);
    } else {
        bnc_log(BNC_LOG_INFO, "bouncer %s started: %s, %d thread%s, store %s",
                PACKAGE_VERSION, listen ? listen : "socket on fd 0",
                lo.threads, lo.threads == 1 ? "" : "s",
                bnc_store_path(bnc_main_store));
        status = bnc_loop_run(&lo);
    }
    bnc_runtime_install(NULL);
    bnc_metrics_close();
    bnc_store_close(bnc_main_store);
    if (!cgi)
        bnc_log(BNC_LOG_INFO, "bouncer stopped (status %d)", status);
    return status;
}
