/* Engine unit tests: runs every suite in suites.h. */
#include "runner.h"
#include "suites.h"

int main(void)
{
    static const gc_suite_fn suites[] = {GC_ENGINE_SUITES};
    return gc_test_main("engine_tests", suites, (int)(sizeof suites / sizeof suites[0]));
}
