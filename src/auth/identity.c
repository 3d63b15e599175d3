/* SPDX-License-Identifier: MIT */
/* Identity and scheme-result helpers shared by every scheme. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scheme.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

void
bnc_identity_set(char **field, const char *value)
{
    free(*field);
    *field = bnc_strdup(value);
}

void
bnc_identity_cleanup(struct bnc_identity *id)
{
    bnc_free(id->user);
    bnc_free(id->auth_type);
    bnc_free(id->user_id);
    bnc_free(id->groups);
    bnc_free(id->scopes);
    bnc_free(id->email);
    bnc_free(id->name);
    bnc_free(id->cred_id);
    bnc_strv_free(id->claims);
    id->claims = NULL;
    id->expires = 0;
}

int
bnc_identity_in_group(const struct bnc_identity *id, const char *group)
{
    const char *p;
    size_t glen = strlen(group);

    if (id == NULL || id->groups == NULL || glen == 0)
        return 0;
    for (p = id->groups; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == glen && memcmp(p, group, glen) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

void
bnc_identity_from_user(struct bnc_identity *id, const struct bnc_user *u,
                       const char *auth_type)
{
    char num[16];
    struct bnc_buf g;
    size_t i;

    bnc_identity_set(&id->user, u->name);
    bnc_identity_set(&id->auth_type, auth_type);
    snprintf(num, sizeof(num), "%u", (unsigned)u->id);
    bnc_identity_set(&id->user_id, num);
    bnc_buf_init(&g);
    for (i = 0; u->groups != NULL && u->groups[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_putc(&g, ',');
        bnc_buf_puts(&g, u->groups[i]);
    }
    if (g.len > 0)
        bnc_identity_set(&id->groups, g.data);
    bnc_buf_cleanup(&g);
    if (u->email != NULL && *u->email != '\0')
        bnc_identity_set(&id->email, u->email);
    if (u->display_name != NULL && *u->display_name != '\0')
        bnc_identity_set(&id->name, u->display_name);
}

void
bnc_result_cleanup(struct bnc_result *r)
{
    bnc_identity_cleanup(&r->id);
    memset(r, 0, sizeof(*r));
}

void
bnc_result_reason(struct bnc_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
}

enum bnc_verdict
bnc_result_deny(struct bnc_result *r, int status, const char *detail,
                const char *code)
{
    r->status = status;
    r->detail = detail;
    r->code = code;
    return BNC_DENY;
}
