/* harness: the timing reference workload (see calib.h). The pattern's sum is
 * returned through a volatile so that the compiler keeps the read pass. */
#include "calib.h"

#include "gapcheck/measure.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* This thread's CPU time; wall time is the engine's one clock (gc_now_ns). */
static double hr__cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static volatile uint64_t hr__calib_sink;

int hr_calib_run(size_t bytes, hr_calib *out)
{
    if (!out || bytes == 0 || bytes % sizeof(uint64_t)) {
        errno = EINVAL;
        return -1;
    }
    uint64_t w0 = gc_now_ns();
    double c0 = hr__cpu_ms();
    int fd = memfd_create("gapcheck-calib", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)bytes) == 0)
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
    size_t n = bytes / sizeof *p;
    for (size_t i = 0; i < n; i++) {   /* xorshift64: cheap, not compressible */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = x;
    }
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    hr__calib_sink = sum;
    munmap(p, bytes);
    close(fd);
    out->cpu_ms = hr__cpu_ms() - c0;
    out->wall_ms = (double)(gc_now_ns() - w0) / 1e6;
    return 0;
}
