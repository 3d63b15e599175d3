/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the user record codec on raw bytes (a users.db value
 * is only as trustworthy as the disk). A record that decodes must encode
 * back to the same bytes and decode again to the same fields. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BNC_FUZZ_USER_FAIL(what)                                             \
    do {                                                                     \
        fprintf(stderr, "fuzz_user: %s\n", what);                            \
        abort();                                                             \
    } while (0)

/* NULL and "" are different on the wire (the email/display flags). */
static int
bnc_fuzz_user_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int
bnc_fuzz_user_eq(const struct bnc_user *a, const struct bnc_user *b)
{
    size_t i;

    if (a->id != b->id || a->rev != b->rev || a->created != b->created ||
        a->changed != b->changed || a->not_before != b->not_before ||
        a->tokens_not_before != b->tokens_not_before ||
        (a->disabled != 0) != (b->disabled != 0) ||
        !bnc_fuzz_user_str_eq(a->name, b->name) ||
        !bnc_fuzz_user_str_eq(a->hash, b->hash) ||
        !bnc_fuzz_user_str_eq(a->email, b->email) ||
        !bnc_fuzz_user_str_eq(a->display_name, b->display_name))
        return 0;
    if (a->groups == NULL || b->groups == NULL) {
        /* No groups may be NULL or an empty list. */
        return (a->groups == NULL || a->groups[0] == NULL) &&
               (b->groups == NULL || b->groups[0] == NULL);
    }
    for (i = 0; a->groups[i] != NULL || b->groups[i] != NULL; i++)
        if (!bnc_fuzz_user_str_eq(a->groups[i], b->groups[i]))
            return 0;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bnc_user u, again;
    struct bnc_err err;
    unsigned char *enc = NULL, *enc2 = NULL;
    size_t len = 0, len2 = 0;
    const char *why;

    memset(&again, 0, sizeof(again));
    bnc_err_clear(&err);
    if (bnc_user_decode(data, size, &u, &err) != 0) {
        if (!err.set)
            BNC_FUZZ_USER_FAIL("decode failed without a message");
        /* A failed decode leaves nothing to free. */
        if (u.name != NULL || u.hash != NULL || u.groups != NULL ||
            u.email != NULL || u.display_name != NULL)
            BNC_FUZZ_USER_FAIL("failed decode left fields set");
        return 0;
    }
    if (!bnc_user_name_valid(u.name, &why))
        BNC_FUZZ_USER_FAIL("decoded a user with an invalid name");
    if (bnc_user_encode(&u, &enc, &len) != 0)
        BNC_FUZZ_USER_FAIL("a decoded record does not encode");
    /* The layout leaves no choice, so the round trip is byte-exact (a
     * format 1 record is written back as the current format). */
    if (data[0] == BNC_USER_RECORD_VERSION &&
        (len != size || memcmp(enc, data, size) != 0))
        BNC_FUZZ_USER_FAIL("encode(decode(x)) differs from x");
    bnc_err_clear(&err);
    if (bnc_user_decode(enc, len, &again, &err) != 0)
        BNC_FUZZ_USER_FAIL("re-encoded record does not decode");
    if (!bnc_fuzz_user_eq(&u, &again))
        BNC_FUZZ_USER_FAIL("decode(encode(u)) differs from u");
    if (bnc_user_encode(&again, &enc2, &len2) != 0 || len2 != len ||
        memcmp(enc, enc2, len) != 0)
        BNC_FUZZ_USER_FAIL("second encoding differs");
    free(enc2);
    free(enc);
    bnc_user_cleanup(&again);
    bnc_user_cleanup(&u);
    return 0;
}
