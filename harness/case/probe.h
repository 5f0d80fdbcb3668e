/* harness case module, machine probes: what this machine offers, as a case's
 * `requires` asks it (a closed set of requirements, one table in probe.c),
 * and the figures the executor checks before it allocates (MemAvailable).
 * Internal to the case module; the runner asks through hc_case_requires_met. */
#ifndef GAPCHECK_HARNESS_PROBE_H
#define GAPCHECK_HARNESS_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Is `r` a requirement this module knows ("memfd", "cores>=4", ...)? 1/0. */
int hc_probe_requirement_ok(const char *r);
/* Is the (known) requirement met here? 1 yes, 0 no; detail says why not. */
int hc_probe_requirement_met(const char *r, char *detail, size_t len);
/* "memfd, seals, ..., mem>=SIZE": the known requirements, for messages. */
void hc_probe_requirements_known(char *buf, size_t len);
/* cases/README.md's table of requirements, from the table. 0, or -1. */
int hc_probe_requirements_markdown(FILE *f);

/* MemAvailable from /proc/meminfo in bytes; 0 when unknown. */
uint64_t hc_probe_mem_available(void);

#endif
