/* reports: linked into coverage builds only (make coverage passes
 * -Wl,--wrap=_exit and this object through LDFLAGS). A process that leaves
 * through _exit skips the atexit handler that writes gcov counters, so the
 * runner's case children and the pool's workers would count for nothing;
 * this wrapper writes them first. libgcov's dump is once per process, so a
 * caller that already flushed (engine/src/worker.c) is not counted twice. */
#include <stdnoreturn.h>

void __gcov_dump(void);
noreturn void __real__exit(int status);
noreturn void __wrap__exit(int status);

noreturn void __wrap__exit(int status)
{
    __gcov_dump();
    __real__exit(status);
}
