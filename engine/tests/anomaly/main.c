/* The anomaly test binary: a test-only link of the engine's objects with
 * every allocation and system call wrapped (fault.h). Runs the loops of
 * test_anomaly.c and the fault cases of test_faults.c in Check's fork mode,
 * then writes what was injected: with GC_ANOMALY_RECORD=PATH, the outcomes
 * ("op kind outcome count") and the failed call sites ("call offset count")
 * that engine/tests/anomaly/record.py turns into the JSON the reports read. */
#include <stdio.h>
#include <stdlib.h>

#include "fault.h"
#include "runner.h"

Suite *suite_anomaly(void);
Suite *suite_faults(void);

int main(void)
{
    gcf_init();
    static const gc_suite_fn suites[] = {suite_anomaly, suite_faults};
    int rc = gc_test_main("anomaly_tests", suites, (int)(sizeof suites / sizeof suites[0]));
    const char *path = getenv("GC_ANOMALY_RECORD");
    if (path && *path) {
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return EXIT_FAILURE;
        }
        fprintf(f, "[outcomes]\n");
        gcf_outcomes_write(f);
        fprintf(f, "[sites]\n");
        gcf_sites_write(f);
        if (fclose(f) != 0) {
            perror(path);
            return EXIT_FAILURE;
        }
    }
    return rc;
}
