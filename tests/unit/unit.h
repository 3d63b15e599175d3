/* SPDX-License-Identifier: MIT */
/* Shared CUnit runner: each test program lists its cases and calls
 * BNC_UNIT_MAIN. Exit status: 0 all passed, 1 a failure, 99 harness error. */
#ifndef BNC_TESTS_UNIT_H
#define BNC_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

struct bnc_unit_case {
    const char *name;
    void (*fn)(void);
};

static inline int
bnc_unit_run(const char *suite, const struct bnc_unit_case *cases,
             int (*init)(void), int (*fini)(void))
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    s = CU_add_suite(suite, init, fini);
    if (s == NULL)
        return 99;
    for (; cases->name != NULL; cases++)
        if (CU_add_test(s, cases->name, cases->fn) == NULL)
            return 99;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#define BNC_UNIT_MAIN(suite, cases, init, fini)                              \
    int main(void) { return bnc_unit_run(suite, cases, init, fini); }

#endif
