/* gapcheck engine: built-in processes that cases use.
 *
 * gc_builtins_register adds these to an engine, each with an empty default
 * contract (a run names what it reads and writes in its own contract):
 *   checksum        value = gc_checksum chained over every declared heavy
 *                   entry, in contract order, from GC_CHECKSUM_SEED
 *   read_all        reads every byte of every declared heavy entry;
 *                   value = gc_sum64 of them added up (bandwidth probe)
 *   touch           reads the first and last byte of every declared heavy
 *                   entry; value = their sum (the handoff probe)
 *   echo            value/text of the first declared domain key
 *   fill            task i of n writes slice [i*L/n, (i+1)*L/n) of every
 *                   declared output with the pattern named by domain key
 *                   "pattern" (default "sequence"); value = bytes written
 *   sleep           sleeps domain "ms" ms; honours the deadline (ETIMEOUT)
 *   spin            busy loop of domain "ms" ms that never looks at its
 *                   deadline (non-cooperative: only the engine can stop it)
 *   block           one blocking wait of domain "ms" ms that ignores its
 *                   deadline (non-cooperative, like a silent socket read)
 *   crash           raises domain "signal" (default SIGSEGV); process mode only
 *   exit            _exit(domain "code", default 3); process mode only
 *   alloc           allocates and touches domain "bytes" bytes
 *   write_readonly  tries to make the first declared heavy entry writable
 *                   (mprotect) and, if domain "store" is 1, stores to it;
 *                   EREADONLY when the kernel refuses
 *   read_undeclared asks for the heavy entry named by domain "name", which
 *                   the contract does not declare: ECONTRACT; with domain
 *                   "swallow" = 1 it ignores the refusal and returns OK,
 *                   and the task still ends ECONTRACT (violations counted)
 *   bad_result      writes a broken reply into its channel first (domain
 *                   "kind": 1 oversized, 2 bad magic, 3 wrong task): EWIRE
 *   fd_census       value = the worker's descriptors and memfd mappings
 *                   beyond stdio, its channel and the zone generation it
 *                   keeps (old generations' files and inherited mappings
 *                   are stray); text lists them all
 *   shm_census      value = entries in /dev/shm named like the zone's files
 *                   ("gapcheck"), where a named shared-memory zone would
 *                   show up (a memfd zone never does)
 * The commit path's (writes go to the write set; see ctx.h, commit.h). A
 * writing builtin also emits one event (topic "changed") and sends one
 * message (topic "outbox", id "m<task>", the same in every attempt) when its
 * contract allows them; payloads say "task=T attempt=A":
 *   increment       adds domain "by" (default 1) to every declared write
 *                   (from its value when it is also a declared read, else 0);
 *                   domain "ms" waits between read and write; domain "own"
 *                   1 writes only write key task % count (disjoint keys)
 *   append          appends domain "entry" (default "<task>;") to every
 *                   declared write, a bytes key
 *   emit, send      only the event / only the message
 *   fail_validation writes domain "bad" (default -1) to every declared write,
 *                   for a validation rule to refuse
 *   fail_after_write does what increment does, then fails (EPROC)
 *   conflict        sets the first declared write to the task number: tasks
 *                   of a run share a base, so all but one conflict at first;
 *                   value = the attempt number
 *   peek            value = the integer domain key named by domain "key",
 *                   declared or not (strict contracts off: counted)
 * sleep, spin, block, crash, exit, bad_result and fail_after_write act on every
 * task, or only on task number domain
 * "only_task" when the contract names it; the other tasks then do what
 * checksum does (fail_after_write: what increment does), so their results
 * can be checked. */
#ifndef GAPCHECK_BUILTINS_H
#define GAPCHECK_BUILTINS_H

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

#ifdef __cplusplus
}
#endif
#endif
