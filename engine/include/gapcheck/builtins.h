/* gapcheck engine: built-in processes that cases use.
 *
 * gc_builtins_register adds every built-in to an engine, each with an empty
 * default contract (a run names what it reads and writes in its own
 * contract). The list, with what each does, is the table in
 * engine/src/builtins.c, readable through gc_builtins_at; cases/README.md
 * shows it. A writing builtin (the commit path's; see ctx.h, commit.h) also
 * emits one event (topic "changed") and sends one message (topic "outbox",
 * id "m<task>", the same in every attempt) when its contract allows them;
 * payloads say "task=T attempt=A". sleep, spin, block, crash, exit,
 * bad_result and fail_after_write act on every task, or only on task number
 * domain "only_task" when the contract names it; the other tasks then do
 * what checksum does (fail_after_write: what increment does), so their
 * results can be checked. */
#ifndef GAPCHECK_BUILTINS_H
#define GAPCHECK_BUILTINS_H

#include <stddef.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

int gc_builtins_register(gc_engine *e, gc_err *err);
/* Is `name` one of the built-in processes? (Case files check their process
 * names against this same table.) */
int gc_builtins_has(const char *name);
/* The built-in names, comma-separated, for error messages. */
const char *gc_builtins_list(void);

typedef struct gc_builtin_info {
    const char *name;
    const char *doc;                 /* one line: what it does, which domain keys it reads */
} gc_builtin_info;
/* The i-th built-in (0-based), or NULL past the last. */
const gc_builtin_info *gc_builtins_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
