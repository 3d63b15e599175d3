/* SPDX-License-Identifier: MIT */
/* The FastCGI accept loop (the only code that includes fcgiapp.h). */
#ifndef BNC_FCGI_LOOP_H
#define BNC_FCGI_LOOP_H

#include <stddef.h>
#include "log/log.h"
#include "util/buf.h"

/* Request body access for the Responder role. Returns bytes read, 0 at the
 * end, -1 on error. Never called in the Authorizer role (servers may never
 * end FCGI_STDIN there: web-servers.md 1). */
struct bnc_io {
    void *ctx;
    long (*read)(void *ctx, char *buf, size_t n);
};

/* Handles one request: envp is NULL-terminated "NAME=value"; the full CGI
 * response (Status line, headers, body) goes to out, the decision log line
 * to log (written by the loop once the answer is on its way, so logging
 * does not add to the request's latency). Must be thread-safe. */
typedef void (*bnc_loop_handler)(char **envp, struct bnc_io *in,
                                 struct bnc_buf *out,
                                 struct bnc_log_line *log);
/* Called from the main thread on SIGHUP. */
typedef void (*bnc_loop_reload)(void);
/* Polled after each request: non-zero stops the loop with exit status 1
 * (e.g. the store panicked and only a fresh process can recover). */
typedef int (*bnc_loop_fatal)(void);
/* Optional. When set, a fatal() condition is first handed to recover(),
 * from the main thread only (e.g. reopen a panicked store while the
 * workers wait); 0 = recovered, the loop goes on. Non-zero stops the loop
 * with exit status 1, as fatal() alone would. */
typedef int (*bnc_loop_recover)(void);

struct bnc_loop_opts {
    const char *listen;   /* "unix:/path", "host:port", or NULL = fd 0 */
    int threads;          /* workers, >= 1 */
    bnc_loop_handler handler;
    bnc_loop_reload reload;
    bnc_loop_fatal fatal;
    bnc_loop_recover recover;   /* may be NULL */
};

/* 1 if fd 0 is a listening socket (spawned by the web server). */
int bnc_loop_fd0_is_socket(void);
/* Runs until SIGTERM/SIGINT (finishing requests in flight) or a fatal
 * condition. Returns the process exit status. */
int bnc_loop_run(const struct bnc_loop_opts *o);
/* Serves one request as plain CGI from environ and stdin. Returns 0. */
int bnc_loop_cgi(const struct bnc_loop_opts *o);

#endif
