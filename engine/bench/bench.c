/* The engine's benchmark: how long a heavy zone takes to reach a worker
 * (handoff), how fast a worker reads it, and what a copy through a pipe would
 * cost instead. All figures come from one run on this machine, as medians and
 * minimums over repeats, so that ratios between them are meaningful even on a
 * noisy shared host. Prints a table and writes a JSON file.
 * "Fresh" handoffs dispatch a zone right after it was filled and published;
 * "warm" ones repeat a zone the worker already maps. Filling 1 GiB evicts
 * every cache the dispatch path uses, and that, not the mapping, is what makes
 * a fresh 1 GiB handoff slower than a fresh 1 MiB one; the warm figures show
 * the mechanism alone is size-independent. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "gapcheck/gapcheck.h"

#define MiB (1024ull * 1024ull)


typedef struct stat_ns {
    double median, min;
    int n;
} stat_ns;

/* The median and minimum of n nanosecond figures (gc_median sorts its copy). */
static stat_ns summarize(const uint64_t *v, int n)
{
    stat_ns s = {.n = n};
    double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (!d)
        return s;
    for (int i = 0; i < n; i++)
        d[i] = (double)v[i];
    s.median = gc_median(d, (size_t)n);
    s.min = n > 0 ? d[0] : 0;
    free(d);
    return s;
}

__attribute__((noreturn)) static void die(const char *what, const gc_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

/* A fresh state whose zone holds one input entry "data" of len bytes. */
static gc_state *make_state(uint64_t len)
{
    gc_err err;
    gc_state *st;
    gc_zone *z;
    void *p;
    size_t n;
    if (gc_state_new(&st, &err) || gc_zone_new(&z, &err) ||
        gc_zone_declare(z, "data", len, 0, &err) || gc_zone_allocate(z, &err) ||
        gc_zone_fill(z, "data", &p, &n, &err))
        die("building a zone", &err);
    gc_pattern pat = {GC_PATTERN_RANDOM, 1};
    gc_pattern_fill(&pat, p, n, 0);
    if (gc_zone_publish(z, &err) || gc_state_set_heavy(st, z, &err))
        die("publishing a zone", &err);
    return st;
}

static const char *const data_name[] = {"data"};
static const gc_contract data_contract = {.heavy_reads = data_name, .n_heavy_reads = 1};

/* One call of execute_parallel with a single task; returns its duration as
 * the caller sees it and the task's result. */
static uint64_t run_one(gc_engine *e, gc_state *st, const char *proc, gc_mode mode,
                        gc_result *r)
{
    gc_exec_opts o = {.process = proc, .mode = mode, .workers = 1, .tasks = 1,
                      .contract = &data_contract};
    gc_err err;
    uint64_t t0 = gc_now_ns();
    if (gc_execute_parallel(e, st, &o, r, &err) != GC_OK)
        die("execute_parallel", &err);
    uint64_t t1 = gc_now_ns();
    if (r->status != GC_OK) {
        fprintf(stderr, "bench: task failed: %s %s\n", gc_status_name(r->status), r->text);
        exit(1);
    }
    return t1 - t0;
}

/* Handoff to a worker that has never seen the zone: a new generation per
 * repeat, dispatched right after it was filled and published. */
static stat_ns handoff_fresh(gc_engine *e, gc_mode mode, uint64_t len, int reps)
{
    uint64_t v[64];
    for (int i = 0; i < reps; i++) {
        gc_state *st = make_state(len);
        gc_result r;
        v[i] = run_one(e, st, "touch", mode, &r);
        gc_state_free(st);
    }
    return summarize(v, reps);
}

/* Repeated handoffs of a zone the workers have seen: the mapping mechanism
 * alone, with caches warm (a fresh zone is also just after 1 GiB of writes,
 * which evicts every cache the dispatch path uses). */
static stat_ns handoff_warm(gc_engine *e, gc_state *st, gc_mode mode, int reps)
{
    uint64_t v[256];
    gc_result r;
    run_one(e, st, "touch", mode, &r);   /* the worker maps it now */
    for (int i = 0; i < reps; i++)
        v[i] = run_one(e, st, "touch", mode, &r);
    return summarize(v, reps);
}

/* Worker's full read (read_all, timed inside the worker) and the whole call. */
static void worker_read(gc_engine *e, gc_state *st, int reps, stat_ns *exec, stat_ns *call)
{
    uint64_t ex[64], ca[64];
    gc_result r;
    run_one(e, st, "read_all", GC_MODE_PROCESS, &r);  /* map and fault in once: warm */
    for (int i = 0; i < reps; i++) {
        ca[i] = run_one(e, st, "read_all", GC_MODE_PROCESS, &r);
        ex[i] = r.exec_ns;
    }
    *exec = summarize(ex, reps);
    *call = summarize(ca, reps);
}

static stat_ns main_read(const gc_state *st, int reps)
{
    uint64_t v[64];
    const void *d;
    size_t n;
    gc_zone_read(gc_state_heavy(st), "data", &d, &n, NULL);
    volatile uint64_t sink = gc_sum64(d, n);   /* warm the page tables */
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = gc_now_ns();
        sink += gc_sum64(d, n);
        v[i] = gc_now_ns() - t0;
    }
    (void)sink;
    return summarize(v, reps);
}

/* The copy baseline: len bytes through a pipe into a child's own buffer. */
static stat_ns pipe_copy(uint64_t len, int reps)
{
    uint64_t v[64];
    uint8_t *src = malloc(len);
    if (!src)
        die("malloc", NULL);
    memset(src, 0x5A, len);
    for (int i = 0; i < reps; i++) {
        int data[2], ack[2];
        if (pipe(data) || pipe(ack))
            die("pipe", NULL);
        fcntl(data[1], F_SETPIPE_SZ, 1 << 20);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", NULL);
        if (pid == 0) {
            close(data[1]);
            close(ack[0]);
            uint8_t *dst = malloc(len);
            uint64_t got = 0;
            while (dst && got < len) {
                ssize_t k = read(data[0], dst + got, len - got);
                if (k <= 0)
                    break;
                got += (uint64_t)k;
            }
            char c = got == len ? 'y' : 'n';
            _exit(write(ack[1], &c, 1) == 1 && c == 'y' ? 0 : 1);
        }
        close(data[0]);
        close(ack[1]);
        uint64_t t0 = gc_now_ns(), sent = 0;
        while (sent < len) {
            ssize_t k = write(data[1], src + sent, len - sent);
            if (k <= 0)
                die("pipe write", NULL);
            sent += (uint64_t)k;
        }
        char c = 0;
        if (read(ack[0], &c, 1) != 1 || c != 'y')
            die("pipe child did not receive everything", NULL);
        v[i] = gc_now_ns() - t0;
        close(data[1]);
        close(ack[0]);
        int ws;
        waitpid(pid, &ws, 0);
    }
    free(src);
    return summarize(v, reps);
}

static json_t *fig(json_t *root, const char *group, const char *key, double median, double min,
                   int n)
{
    json_t *g = json_object_get(root, group);
    if (!g) {
        g = json_object();
        json_object_set_new(root, group, g);
    }
    json_object_set_new(g, key, json_real(median));
    char mk[96];
    snprintf(mk, sizeof mk, "%s_min", group);
    json_t *gm = json_object_get(root, mk);
    if (!gm) {
        gm = json_object();
        json_object_set_new(root, mk, gm);
    }
    json_object_set_new(gm, key, json_real(min));
    (void)n;
    return g;
}

static void row(const char *what, stat_ns s, double scale, const char *unit)
{
    printf("  %-44s %12.1f %12.1f %-5s (n=%d)\n", what, s.median / scale, s.min / scale, unit, s.n);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "reports/bench.json";
    int quick = getenv("GC_BENCH_QUICK") != NULL;
    int reps_small = quick ? 5 : 31, reps_big = quick ? 3 : 11;
    gc_engine *e;
    gc_err err;
    if (gc_engine_new(&e, &err) || gc_builtins_register(e, &err))
        die("engine", &err);
    gc_state *warm = make_state(100 * MiB);
    gc_result r;
    run_one(e, warm, "touch", GC_MODE_PROCESS, &r);   /* start the pool */

    printf("gapcheck bench: %ld cores; medians and minimums over repeats\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  %-44s %12s %12s\n", "figure", "median", "min");
    stat_ns hp1 = handoff_fresh(e, GC_MODE_PROCESS, 1 * MiB, reps_small);
    stat_ns hp100 = handoff_fresh(e, GC_MODE_PROCESS, 100 * MiB, reps_big);
    stat_ns hp1g = handoff_fresh(e, GC_MODE_PROCESS, 1024 * MiB, quick ? 2 : 7);
    stat_ns hw100 = handoff_warm(e, warm, GC_MODE_PROCESS, quick ? 20 : 201);
    gc_state *small = make_state(1 * MiB), *huge = make_state(1024 * MiB);
    stat_ns wp1 = handoff_warm(e, small, GC_MODE_PROCESS, quick ? 20 : 101);
    stat_ns wp1g = handoff_warm(e, huge, GC_MODE_PROCESS, quick ? 20 : 101);
    stat_ns wt1 = handoff_warm(e, small, GC_MODE_THREAD, quick ? 20 : 101);
    stat_ns wt1g = handoff_warm(e, huge, GC_MODE_THREAD, quick ? 20 : 101);
    gc_state_free(small);
    gc_state_free(huge);
    stat_ns ht1 = handoff_fresh(e, GC_MODE_THREAD, 1 * MiB, reps_small);
    stat_ns ht100 = handoff_fresh(e, GC_MODE_THREAD, 100 * MiB, reps_big);
    stat_ns ht1g = handoff_fresh(e, GC_MODE_THREAD, 1024 * MiB, quick ? 2 : 7);
    stat_ns wexec, wcall;
    worker_read(e, warm, reps_big, &wexec, &wcall);
    stat_ns mread = main_read(warm, reps_big);
    stat_ns pipe100 = pipe_copy(100 * MiB, quick ? 3 : 7);

    row("handoff, process, fresh 1 MiB", hp1, 1e3, "us");
    row("handoff, process, fresh 100 MiB", hp100, 1e3, "us");
    row("handoff, process, fresh 1 GiB", hp1g, 1e3, "us");
    row("handoff, process, warm 100 MiB", hw100, 1e3, "us");
    row("handoff, process, warm 1 MiB", wp1, 1e3, "us");
    row("handoff, process, warm 1 GiB", wp1g, 1e3, "us");
    row("handoff, thread, warm 1 MiB", wt1, 1e3, "us");
    row("handoff, thread, warm 1 GiB", wt1g, 1e3, "us");
    row("handoff, thread, fresh 1 MiB", ht1, 1e3, "us");
    row("handoff, thread, fresh 100 MiB", ht100, 1e3, "us");
    row("handoff, thread, fresh 1 GiB", ht1g, 1e3, "us");
    row("worker full read 100 MiB (warm, in worker)", wexec, 1e6, "ms");
    row("main one-thread read 100 MiB", mread, 1e6, "ms");
    row("copy: 100 MiB through a pipe to a child", pipe100, 1e6, "ms");
    row("zero-copy: handoff + worker full read, warm", wcall, 1e6, "ms");

    double bytes = 100.0 * MiB;
    double gbps_worker = bytes / wexec.median, gbps_main = bytes / mread.median;
    printf("  %-44s %12.2f GB/s\n", "read bandwidth, worker (warm)", gbps_worker);
    printf("  %-44s %12.2f GB/s\n", "read bandwidth, main one thread", gbps_main);

    struct {
        const char *text;
        double value, limit;
        int at_most;
    } targets[] = {
        {"fresh 100 MiB handoff to a process worker <= 200 us", hp100.median / 1e3, 200, 1},
        {"warm 100 MiB handoff to a process worker <= 50 us", hw100.median / 1e3, 50, 1},
        {"process handoff 1 GiB / 1 MiB <= 1.2", hp1g.median / hp1.median, 1.2, 1},
        {"thread handoff 1 GiB / 1 MiB <= 1.2", ht1g.median / ht1.median, 1.2, 1},
        {"(warm) process handoff 1 GiB / 1 MiB <= 1.2", wp1g.median / wp1.median, 1.2, 1},
        {"(warm) thread handoff 1 GiB / 1 MiB <= 1.2", wt1g.median / wt1.median, 1.2, 1},
        {"worker read >= 0.5 x one-thread read", gbps_worker / gbps_main, 0.5, 0},
        {"zero-copy >= 10x faster than the pipe", pipe100.median / wcall.median, 10, 0},
    };
    json_t *root = json_object();
    json_t *tj = json_array();
    printf("targets:\n");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        int ok = targets[i].at_most ? targets[i].value <= targets[i].limit
                                    : targets[i].value >= targets[i].limit;
        printf("  [%s] %-52s measured %.3f\n", ok ? "MET " : "MISS", targets[i].text, targets[i].value);
        json_array_append_new(tj, json_pack("{s:s,s:f,s:f,s:b}", "text", targets[i].text, "measured",
                                            targets[i].value, "limit", targets[i].limit, "met", ok));
    }
    fig(root, "handoff_us", "process.1MiB", hp1.median / 1e3, hp1.min / 1e3, hp1.n);
    fig(root, "handoff_us", "process.100MiB", hp100.median / 1e3, hp100.min / 1e3, hp100.n);
    fig(root, "handoff_us", "process.1GiB", hp1g.median / 1e3, hp1g.min / 1e3, hp1g.n);
    fig(root, "handoff_us", "process_warm.100MiB", hw100.median / 1e3, hw100.min / 1e3, hw100.n);
    fig(root, "handoff_us", "thread.1MiB", ht1.median / 1e3, ht1.min / 1e3, ht1.n);
    fig(root, "handoff_us", "thread.100MiB", ht100.median / 1e3, ht100.min / 1e3, ht100.n);
    fig(root, "handoff_us", "thread.1GiB", ht1g.median / 1e3, ht1g.min / 1e3, ht1g.n);
    fig(root, "handoff_us", "process_warm.1MiB", wp1.median / 1e3, wp1.min / 1e3, wp1.n);
    fig(root, "handoff_us", "process_warm.1GiB", wp1g.median / 1e3, wp1g.min / 1e3, wp1g.n);
    fig(root, "handoff_us", "thread_warm.1MiB", wt1.median / 1e3, wt1.min / 1e3, wt1.n);
    fig(root, "handoff_us", "thread_warm.1GiB", wt1g.median / 1e3, wt1g.min / 1e3, wt1g.n);
    fig(root, "read_gbps", "worker_warm", gbps_worker, bytes / wexec.min, wexec.n);
    fig(root, "read_gbps", "one_thread", gbps_main, bytes / mread.min, mread.n);
    fig(root, "copy_ms", "pipe_100MiB", pipe100.median / 1e6, pipe100.min / 1e6, pipe100.n);
    fig(root, "copy_ms", "zero_copy_100MiB", wcall.median / 1e6, wcall.min / 1e6, wcall.n);
    json_object_set_new(root, "targets", tj);
    char cmd[512] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
        strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    }
    json_object_set_new(root, "command", json_string(cmd));
    json_object_set_new(root, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(root, "quick", json_boolean(quick));
    json_object_set_new(root, "schema", json_integer(1));
    if (json_dump_file(root, out, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "bench: cannot write %s\n", out);
        return 1;
    }
    json_decref(root);
    printf("wrote %s; produced by: %s\n", out, cmd);
    gc_state_free(warm);
    gc_engine_free(e);
    return 0;
}
