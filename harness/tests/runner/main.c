/* Runner unit tests (runner_tests): every suite of the gapcheck runner, run
 * by the shared Check runner in fork mode. */
#include "runner.h"

Suite *suite_runner_text(void);
Suite *suite_runner_model(void);
Suite *suite_runner_opts(void);
Suite *suite_runner_select(void);
Suite *suite_runner_render(void);
Suite *suite_runner_isolate(void);

int main(void)
{
    static const gc_suite_fn suites[] = {
        suite_runner_text,   suite_runner_model,  suite_runner_opts,
        suite_runner_select, suite_runner_render, suite_runner_isolate,
    };
    return gc_test_main("runner_tests", suites, (int)(sizeof suites / sizeof suites[0]));
}
