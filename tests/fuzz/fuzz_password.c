/* SPDX-License-Identifier: MIT */
/* libFuzzer target: stored hash NUL password, through verify and format. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Cheap cost so the fuzzer explores parsing, not Argon2's inner loop;
     * stored hashes still choose their own (bounded) cost. */
    static const struct bnc_argon2_params p = {8, 1, 1};
    const uint8_t *nul = memchr(data, 0, size);
    size_t hlen = nul != NULL ? (size_t)(nul - data) : size;
    const char *pw = nul != NULL ? (const char *)nul + 1 : "";
    size_t pwlen = nul != NULL ? size - hlen - 1 : 0;
    char *stored = malloc(hlen + 1);
    int rehash = 0;

    if (stored == NULL)
        return 0;
    memcpy(stored, data, hlen);
    stored[hlen] = '\0';
    (void)bnc_password_format(stored);
    (void)bnc_password_verify(stored, pw, pwlen, &p, &rehash);
    free(stored);
    return 0;
}
