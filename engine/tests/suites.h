/* The engine's test list: every suite, declared once, run by main.c. */
#ifndef GC_ENGINE_SUITES_H
#define GC_ENGINE_SUITES_H
#include <check.h>

Suite *suite_basics(void);   /* status codes, names, patterns, checksum */
Suite *suite_exec(void);     /* execute_parallel: both modes, pool, failures, leaks */
Suite *suite_zone(void);     /* heavy zone: lifecycle, seals, fork, leaks */
Suite *suite_state(void);    /* state: domain values, heavy zone ownership */
Suite *suite_ctx(void);      /* context factory and accessors (INC-014) */
Suite *suite_wire(void);     /* wire codec: round trips, rejects, descriptors */
Suite *suite_commit(void);   /* commit path: versions, write sets, retries, deliveries */

#define GC_ENGINE_SUITES suite_basics, suite_exec, suite_zone, suite_state, suite_ctx, suite_wire, \
                          suite_commit
#endif
