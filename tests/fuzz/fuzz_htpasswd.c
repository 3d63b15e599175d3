/* SPDX-License-Identifier: MIT */
/* libFuzzer target: one htpasswd line (bouncerctl import htpasswd reads
 * files someone else wrote). Whatever the bytes: no crash, and a line
 * taken as a user gives a valid name and either a hash bouncer can verify,
 * no password (a locked line: "!", "*", "x") or, only when clear text is
 * allowed, a password of at least BNC_MIGRATE_PLAIN_MIN bytes that is not
 * shaped like a hash or a lock; a refused line always says why. The same bytes are tried as an
 * htdbm record (first byte splits key and value). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/password.h"
#include "migrate/migrate.h"
#include "store/store.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BNC_FUZZ_HT_FAIL(what)                                               \
    do {                                                                     \
        fprintf(stderr, "fuzz_htpasswd: %s\n", what);                        \
        abort();                                                             \
    } while (0)

static void
bnc_fuzz_ht_check(int rc, const struct bnc_migrate_ht *h,
                  const struct bnc_err *err, int allow_plain)
{
    const char *why;

    if (rc < 0) {
        if (!err->set)
            BNC_FUZZ_HT_FAIL("refused without a reason");
        if (h->name != NULL || h->hash != NULL || h->plain != NULL ||
            h->groups != NULL)
            BNC_FUZZ_HT_FAIL("a refused line left fields set");
        return;
    }
    if (rc == 0) {
        if (h->name != NULL)
            BNC_FUZZ_HT_FAIL("an empty line gave a user");
        return;
    }
    if (!bnc_user_name_valid(h->name, &why))
        BNC_FUZZ_HT_FAIL("a user with an invalid name");
    if ((h->hash == NULL) == (h->plain == NULL))
        BNC_FUZZ_HT_FAIL("neither or both of hash and clear text");
    if (h->locked) {
        /* "!", "*", "x": a user with no password, never a password. */
        if (h->hash == NULL || strcmp(h->hash, BNC_MIGRATE_NO_PASSWORD) != 0)
            BNC_FUZZ_HT_FAIL("a locked line gave a password");
        return;
    }
    if (h->hash != NULL && !bnc_password_usable(h->hash, &why))
        BNC_FUZZ_HT_FAIL("a hash that cannot be verified was taken");
    if (h->plain != NULL) {
        if (!allow_plain)
            BNC_FUZZ_HT_FAIL("clear text taken without allow_plain");
        if (strlen(h->plain) < BNC_MIGRATE_PLAIN_MIN ||
            h->plain[0] == '!' || h->plain[0] == '*' ||
            bnc_password_format(h->plain) != NULL ||
            strchr(h->plain, ':') != NULL)
            BNC_FUZZ_HT_FAIL("a clear-text password shaped like a hash");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bnc_migrate_ht h;
    struct bnc_err err;
    size_t klen;
    int rc, plain;

    for (plain = 0; plain <= 1; plain++) {
        bnc_err_clear(&err);
        rc = bnc_migrate_htpasswd_line((const char *)data, size, plain, &h,
                                       &err);
        bnc_fuzz_ht_check(rc, &h, &err, plain);
        bnc_migrate_ht_cleanup(&h);
    }
    if (size > 0) {
        klen = data[0] < size - 1 ? data[0] : size - 1;
        bnc_err_clear(&err);
        rc = bnc_migrate_htdbm_record(data + 1, klen, data + 1 + klen,
                                      size - 1 - klen, 0, &h, &err);
        if (rc == 0)
            BNC_FUZZ_HT_FAIL("htdbm record answered 0");
        bnc_fuzz_ht_check(rc, &h, &err, 0);
        if (rc == 1 && h.groups != NULL) {
            size_t i;

            for (i = 0; h.groups[i] != NULL; i++)
                if (!bnc_group_name_valid(h.groups[i]))
                    BNC_FUZZ_HT_FAIL("an invalid group name was taken");
        }
        bnc_migrate_ht_cleanup(&h);
    }
    return 0;
}
