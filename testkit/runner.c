/* Shared Check test runner; see runner.h. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>

int gc_test_main(const char *name, const gc_suite_fn *suites, int n)
{
    SRunner *sr = srunner_create(suites[0]());
    for (int i = 1; i < n; i++)
        srunner_add_suite(sr, suites[i]());
    const char *tap = getenv("GC_TEST_TAP");
    if (tap && *tap)
        srunner_set_tap(sr, tap);
    srunner_run_all(sr, CK_NORMAL);
    int ran = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (ran == 0) {
        fprintf(stderr, "%s: no test ran (check CK_RUN_SUITE / CK_RUN_CASE)\n", name);
        return EXIT_FAILURE;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
