/* SPDX-License-Identifier: MIT */
/* noop-authorizer: a libfcgi Authorizer that allows every request; the
 * benchmark's floor (the cost of FastCGI itself, with no decision). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcgiapp.h>

static const char bnc_noop_answer[] =
    "Status: 200 OK\r\nVariable-REMOTE_USER: noop\r\n\r\n";

static volatile sig_atomic_t bnc_noop_stop;

static void
bnc_noop_on_signal(int sig)
{
    (void)sig;
    bnc_noop_stop = 1;
}

static void
bnc_noop_usage(FILE *f)
{
    fputs("usage: noop-authorizer [--listen unix:PATH|HOST:PORT]\n"
          "Answers every FastCGI request with Status 200 and "
          "Variable-REMOTE_USER: noop.\nWithout --listen the listening "
          "socket is expected on fd 0.\n", f);
}

int
main(int argc, char **argv)
{
    FCGX_Request req;
    struct sigaction sa;
    const char *listen_addr = NULL;
    int sock = 0, i, rc = 1;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen_addr = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            bnc_noop_usage(stdout);
            return 0;
        } else {
            bnc_noop_usage(stderr);
            return 2;
        }
    }

    /* No SA_RESTART, and FCGI_FAIL_ACCEPT_ON_INTR below: SIGTERM makes
     * FCGX_Accept_r return so the process exits 0 (web-servers.md 1). */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bnc_noop_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (FCGX_Init() != 0) {
        fputs("noop-authorizer: FCGX_Init failed\n", stderr);
        return 1;
    }
    if (listen_addr != NULL) {
        /* libfcgi takes a bare path for Unix sockets, HOST:PORT for TCP. */
        if (strncmp(listen_addr, "unix:", 5) == 0)
            listen_addr += 5;
        sock = FCGX_OpenSocket(listen_addr, 128);
        if (sock < 0) {
            fprintf(stderr, "noop-authorizer: cannot listen on %s: %s\n",
                    listen_addr, strerror(errno));
            return 1;
        }
    }
    if (FCGX_InitRequest(&req, sock, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fputs("noop-authorizer: FCGX_InitRequest failed\n", stderr);
        return 1;
    }
    while (!bnc_noop_stop) {
        if (FCGX_Accept_r(&req) < 0) {
            if (bnc_noop_stop)
                break;
            fputs("noop-authorizer: FCGX_Accept_r failed\n", stderr);
            goto out;
        }
        FCGX_PutStr(bnc_noop_answer, (int)(sizeof(bnc_noop_answer) - 1),
                    req.out);
        FCGX_Finish_r(&req);
    }
    rc = 0;
out:
    FCGX_Free(&req, 1);
    return rc;
}
