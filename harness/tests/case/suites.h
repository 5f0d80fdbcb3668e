/* The harness's test list: every suite of case_tests, declared once, run by
 * main.c. Add a suite here and to HARNESS_TEST_SUITES below. */
#ifndef GC_HARNESS_SUITES_H
#define GC_HARNESS_SUITES_H
#include <check.h>

Suite *suite_case_parse(void);   /* case files: good files and every kind of error */
Suite *suite_case_run(void);     /* hc_case_run end to end on the real engine */
Suite *suite_case_grammar(void); /* the key tables drive messages and the README */
Suite *suite_histcheck(void);    /* the history checker on hand-made histories */

#define HARNESS_TEST_SUITES suite_case_parse, suite_case_run, suite_case_grammar, suite_histcheck
#endif
