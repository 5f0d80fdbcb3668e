/* gapcheck engine: the measuring utilities every part uses, once: the
 * monotonic clock the engine times tasks with, and the median the harness,
 * the bench and the reports' figures are built from. Public and stable. */
#ifndef GAPCHECK_MEASURE_H
#define GAPCHECK_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t gc_now_ns(void);

/* Median of v[0..n-1], which it sorts in place (the caller may then read the
 * minimum at v[0] and the maximum at v[n-1]); the mean of the two middle
 * values for even n; 0 for n = 0. NaN values must be left out by the caller. */
double gc_median(double *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
