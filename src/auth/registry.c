/* SPDX-License-Identifier: MIT */
/* The built-in schemes: adding one is one file and one line here. */
#include <string.h>

#include "auth/registry.h"
#include "auth/session.h"

const struct bnc_scheme *const bnc_builtin_schemes[] = {
    &bnc_scheme_basic,
    &bnc_scheme_token,
    &bnc_scheme_ip,
    &bnc_scheme_session,
    &bnc_scheme_jwt,
    NULL,
};

const struct bnc_scheme *
bnc_scheme_find(const char *name)
{
    size_t i;

    for (i = 0; bnc_builtin_schemes[i] != NULL; i++)
        if (strcmp(bnc_builtin_schemes[i]->name, name) == 0)
            return bnc_builtin_schemes[i];
    return NULL;
}
