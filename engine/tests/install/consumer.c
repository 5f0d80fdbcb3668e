/* A program built only from what `make install` puts in place (headers,
 * library, pkg-config file): it runs one process-mode task through the
 * installed engine and checks the answer, so the install step is tested as a
 * user meets it. */
#include <gapcheck/gapcheck.h>
#include <stdio.h>

int main(void)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    gc_err err;
    int ok = gc_engine_new(&e, &err) == GC_OK && gc_builtins_register(e, &err) == GC_OK &&
             gc_state_new(&st, &err) == GC_OK && gc_state_set_int(st, "x", 42, &err) == GC_OK;
    static const char *const keys[] = {"x"};
    gc_contract c = {.domain_reads = keys, .n_domain_reads = 1};
    gc_exec_opts o = {.process = "echo", .mode = GC_MODE_PROCESS, .workers = 1, .tasks = 1,
                      .contract = &c};
    gc_result r = {0};
    ok = ok && gc_execute_parallel(e, st, &o, &r, &err) == GC_OK && r.status == GC_OK &&
         r.value == 42;
    printf("%s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
    if (!ok)
        fprintf(stderr, "consumer: %s (task: %s %s)\n", err.msg, gc_status_name(r.status), r.text);
    gc_state_free(st);
    gc_engine_free(e);
    return ok ? 0 : 1;
}
