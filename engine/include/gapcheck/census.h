/* gapcheck engine: what this process holds, counted from /proc/self.
 *
 * The engine promises that nothing is left behind after a run; this is how
 * that promise is checked, by the harness around every case and by the
 * engine's own tests. Counted: open descriptors (below the soft
 * RLIMIT_NOFILE: tools such as valgrind keep theirs above it), those of them
 * that are memfds, memfd mappings (lines of /proc/self/maps; a memfd is what
 * the kernel names "/memfd:NAME (deleted)", not any path with "memfd:" in
 * it), and live child processes of every thread; and the resident set size,
 * to show memory stays flat over long runs. Reading /proc needs no
 * cooperation from the code under test, so a leak cannot hide by forgetting
 * to report itself. */
#ifndef GAPCHECK_CENSUS_H
#define GAPCHECK_CENSUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gc_census {
    int fds;          /* open descriptors, this census's own excluded */
    int memfds;       /* of which memfds */
    int maps;         /* memfd mappings */
    int children;     /* live child processes */
    long rss_kb;      /* VmRSS */
    long vm_kb;       /* VmSize: the address space, what RLIMIT_AS limits */
    int fd_top;       /* highest counted descriptor + 1 (0: none), what a
                         descriptor limit must leave room above */
} gc_census;

/* GC_OK, or GC_ESYS when /proc could not be read (out is then zeroed). */
int gc_census_take(gc_census *out);

/* 1 when this process runs under valgrind (its preload is in LD_PRELOAD):
 * valgrind keeps descriptors of its own above the soft limit and manages the
 * address space itself, so limits and RSS mean something else there. */
int gc_census_under_valgrind(void);

#ifdef __cplusplus
}
#endif
#endif
