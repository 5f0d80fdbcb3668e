/* The engine's test list: every suite, declared once, run by main.c. */
#ifndef GC_ENGINE_SUITES_H
#define GC_ENGINE_SUITES_H
#include <check.h>

Suite *suite_basics(void);   /* status codes, names, patterns, checksum */
Suite *suite_exec(void);     /* execute_parallel: both modes, pool, failures, leaks */

#define GC_ENGINE_SUITES suite_basics, suite_exec
#endif
