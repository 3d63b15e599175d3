/* SPDX-License-Identifier: MIT */
/* Built-in schemes by name. */
#ifndef BNC_AUTH_REGISTRY_H
#define BNC_AUTH_REGISTRY_H

#include "auth/scheme.h"

/* The scheme called name, or NULL. */
const struct bnc_scheme *bnc_scheme_find(const char *name);
/* NULL-terminated table of built-ins. */
extern const struct bnc_scheme *const bnc_builtin_schemes[];

/* Built-in scheme objects (one per file in src/schemes/). */
extern const struct bnc_scheme bnc_scheme_basic;
extern const struct bnc_scheme bnc_scheme_token;
extern const struct bnc_scheme bnc_scheme_ip;
extern const struct bnc_scheme bnc_scheme_jwt;

#endif
