/* SPDX-License-Identifier: MIT */
/* bench/bnc-rules-cost: the in-process cost of one rule decision (path
 * normalisation + first match + evaluation) for a config's [rules], with
 * the first-segment index and without it. bench/rules.sh runs it next to
 * the end-to-end FastCGI figures.
 *
 * usage: bnc-rules-cost CONFIG METHOD HOST URI [ITERATIONS]
 * prints: "rules=N line=L indexed_ns=X linear_ns=Y" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/rules.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "util/err.h"

static double
bnc_rules_cost_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per decision over n decisions; *line gets the matched rule's line. */
static double
bnc_rules_cost_run(const struct bnc_rules *r, const char *method,
                   const char *host, const char *uri,
                   const struct bnc_rule_facts *f, long n, unsigned *line)
{
    struct bnc_rule_answer a;
    char path[8192];
    volatile unsigned sink = 0;
    double t0;
    long i;

    t0 = bnc_rules_cost_now();
    for (i = 0; i < n; i++) {
        if (bnc_path_normalize(uri, path, sizeof(path), NULL) != 0)
            return -1;
        bnc_rules_answer(r, NULL, method, host, path, f, &a);
        sink += (unsigned)a.outcome + (a.rule ? a.rule->line : 0);
    }
    *line = a.rule != NULL ? a.rule->line : 0;
    (void)sink;
    return (bnc_rules_cost_now() - t0) / (double)n;
}

int
main(int argc, char **argv)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    struct bnc_identity id;
    struct bnc_rule_facts f;
    long n = argc > 5 ? atol(argv[5]) : 200000;
    double indexed, linear;
    unsigned line = 0;

    if (argc < 5 || n <= 0) {
        fprintf(stderr, "usage: bnc-rules-cost CONFIG METHOD HOST URI "
                        "[ITERATIONS]\n");
        return 2;
    }
    bnc_diag_init(&d);
    c = bnc_conf_load(argv[1], &d);
    if (c == NULL) {
        bnc_diag_print(&d, stderr);
        return 1;
    }
    bnc_diag_cleanup(&d);
    /* A token caller, as in the end-to-end run. */
    memset(&id, 0, sizeof(id));
    id.user = (char *)"bench";
    id.scopes = (char *)"read write";
    memset(&f, 0, sizeof(f));
    f.id = &id;
    f.scheme = "token";
    /* Warm up, then measure with the index the loader built, then without. */
    (void)bnc_rules_cost_run(c->rules, argv[2], argv[3], argv[4], &f, n / 10 + 1,
                             &line);
    indexed = bnc_rules_cost_run(c->rules, argv[2], argv[3], argv[4], &f, n,
                                 &line);
    bnc_rules_index_drop(c->rules);
    linear = bnc_rules_cost_run(c->rules, argv[2], argv[3], argv[4], &f, n,
                                &line);
    printf("rules=%zu line=%u indexed_ns=%.0f linear_ns=%.0f\n", c->rules->n,
           line, indexed, linear);
    bnc_conf_free(c);
    return indexed < 0 ? 1 : 0;
}
