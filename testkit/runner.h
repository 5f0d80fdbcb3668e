/* Shared Check test runner: runs the given suites in fork mode and fails when
 * no test ran (an unknown CK_RUN_SUITE/CK_RUN_CASE would otherwise pass). */
#ifndef GC_TEST_RUNNER_H
#define GC_TEST_RUNNER_H
#include <check.h>

typedef Suite *(*gc_suite_fn)(void);
int gc_test_main(const char *name, const gc_suite_fn *suites, int n);

#endif
