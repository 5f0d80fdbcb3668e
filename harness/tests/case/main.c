/* Harness unit tests: runs every suite in suites.h with the shared runner
 * (fork mode; a run of zero tests fails). */
#include "runner.h"
#include "suites.h"

int main(void)
{
    static const gc_suite_fn suites[] = {HARNESS_TEST_SUITES};
    return gc_test_main("case_tests", suites, (int)(sizeof suites / sizeof suites[0]));
}
