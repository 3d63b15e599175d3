/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as a bouncer.conf through the lexer, the core
 * directive tables and the rules parser; a loaded config must then answer
 * every getter and rule lookup without crashing. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "conf/conf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BNC_FUZZ_CHECK(cond)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_conf: check failed: %s\n", #cond);        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Every getter on every entry of every section, whatever its type. */
static void
bnc_fuzz_conf_getters(struct bnc_conf *c, struct bnc_diag *d)
{
    size_t i, k;

    for (i = 0; i < c->nsections; i++) {
        struct bnc_conf_section *s = &c->sections[i];

        for (k = 0; k < s->nentries && k < 64; k++) {
            const char *key = s->entries[k].key, *str;
            uint64_t v;
            int b;

            bnc_conf_get_str(c, s, key, NULL, &str, d);
            BNC_FUZZ_CHECK(str == s->entries[k].value);
            bnc_conf_get_bool(c, s, key, 0, &b, d);
            BNC_FUZZ_CHECK(b == 0 || b == 1);
            bnc_conf_get_u64(c, s, key, 5, 1, 1000, &v, d);
            BNC_FUZZ_CHECK(v >= 1 && v <= 1000);
            bnc_conf_get_duration(c, s, key, 60, 0, 86400, &v, d);
            BNC_FUZZ_CHECK(v <= 86400);
            BNC_FUZZ_CHECK(s->entries[k].used);
        }
        bnc_conf_check_unused(c, s, d);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/", "/admin/", "/a/b/c.png",
                                        "/auth/login", "/x"};
    struct bnc_diag d;
    struct bnc_conf *c;
    size_t i, namelen = strlen("fuzz.conf");

    bnc_diag_init(&d);
    c = bnc_conf_load_mem("fuzz.conf", (const char *)data, size, &d);
    /* NULL exactly when there was an error; every line is located. */
    BNC_FUZZ_CHECK((c == NULL) == (d.nerrors > 0));
    for (i = 0; i < d.n; i++)
        BNC_FUZZ_CHECK(strncmp(d.lines[i], "fuzz.conf", namelen) == 0);
    if (c != NULL) {
        BNC_FUZZ_CHECK(c->schemes != NULL && c->schemes[0] != NULL);
        BNC_FUZZ_CHECK(c->realm != NULL && c->store_path != NULL);
        BNC_FUZZ_CHECK(c->rules != NULL);
        for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
            const struct bnc_rule *r = bnc_rules_match(c->rules, "GET",
                                                       paths[i]);
            struct bnc_rule_facts f;

            memset(&f, 0, sizeof(f));
            if (r != NULL)
                (void)bnc_rule_eval(r, &f);
        }
        bnc_fuzz_conf_getters(c, &d);
        bnc_conf_free(c);
    }
    bnc_diag_cleanup(&d);
    return 0;
}
