/* SPDX-License-Identifier: MIT */
/* bouncer --check-config's look at the access rules: what is legal but
 * probably not meant (rules that leave a path open to anonymous users,
 * group and scheme names nothing can satisfy). */
#ifndef BNC_AUTH_RULES_CHECK_H
#define BNC_AUTH_RULES_CHECK_H

#include "util/err.h"

struct bnc_conf;
struct bnc_store;

/* Adds "file:line: warning: ..." lines to d for each rule of c that:
 * - has "anonymous" (the path is open to anyone; sometimes intended);
 * - names a scheme that does not exist, or is not in [auth] schemes;
 * - names a group that no user in the store (nor an [ip] entry) has.
 * store may be NULL (not available at check time): the group check is
 * then skipped with a warning that says so. Unreachable (shadowed) rules
 * are reported by the config loader itself. Returns the number of
 * warnings added. */
size_t bnc_rules_lint(const struct bnc_conf *c, struct bnc_store *store,
                      struct bnc_diag *d);

#endif
