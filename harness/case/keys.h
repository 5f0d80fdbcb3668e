/* harness case module, the case grammar as data: one table of sections and
 * one table of keys (keys.c). Each key row says where the key may appear,
 * what kind of value it takes and in which range, where the value goes, and
 * documents it in one line. The parser (parse.c) dispatches on the table,
 * validates generic kinds itself, builds its "unknown key (known: ...)" and
 * "missing required key" messages from it, and cases/README.md's key
 * reference is printed from it (hc__grammar_markdown; a unit test fails when
 * the README and the table disagree).
 *
 * To add a case key: add one row to hc__keys[] in keys.c (and, for a value
 * the generic kinds do not cover, its parse function next to the row), add
 * the field it fills to struct hc_case (case_int.h), its use to exec.c, and
 * run `make readme-blocks` to rewrite cases/README.md's reference from the
 * table. Internal to the case module. */
#ifndef GAPCHECK_HARNESS_KEYS_H
#define GAPCHECK_HARNESS_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case_int.h"
#include "syntax.h"


typedef struct hc_section_def {
    hc_section_kind sec;
    const char *name;               /* "case", or the prefix of [heavy.NAME] */
    int named;                      /* written [name.NAME], any number of times */
    int required;
    const char *note;               /* appended to its "known keys" list, or NULL */
} hc_section_def;

/* How a value is read. Generic kinds are validated by the parser alone and
 * stored at `off` in the section's object; HC_KIND_FN calls the row's fn. */
typedef enum hc_key_kind {
    HC_KIND_TEXT,                   /* char[size]; lo = 1: may not be empty */
    HC_KIND_IDENT,                  /* char[size] of [A-Za-z0-9_.:/-]; lo = 0: may be empty */
    HC_KIND_U32,                    /* uint32_t in lo..hi */
    HC_KIND_POSITIVE,               /* double, finite, > 0 and <= hi (hi = 0: no bound) */
    HC_KIND_BOOL,                   /* int: true or false, nothing else */
    HC_KIND_SIZE,                   /* uint64_t, count and unit (B, KiB, MiB, GiB), >= lo */
    HC_KIND_STATUS,                 /* int: a gc_status name */
    HC_KIND_CHOICE,                 /* int: index of the value in `choices` */
    HC_KIND_HEAPTEXT,               /* char *, owned; shorter than hi bytes */
    HC_KIND_NAMES,                  /* hc_names: comma list of engine names; `hint` names one */
    HC_KIND_FN                      /* the row's fn reads the value */
} hc_key_kind;

typedef struct hc_key_def hc_key_def;

/* A custom reader: `obj` is the section's object (hc_case, hc_entry or
 * hc_claim_spec), `key` the full "section.key" for messages. 1 = ok, 0 =
 * failed (after hc__fail). */
typedef int (*hc_key_fn)(hc_parser *p, const hc_key_def *k, const char *name,
                         const char *value, const char *key, void *obj);

struct hc_key_def {
    hc_section_kind sec;
    const char *name;               /* "id"; "status.N"/"output.NAME": any "status."/"output."
                                     * key; "NAME" alone: any key of the section */
    hc_key_kind kind;
    int required;
    int64_t lo, hi;                 /* range (per kind, above) */
    size_t off, size;               /* destination in the section's object */
    const char *choices;            /* HC_KIND_CHOICE: "thread|process|both" */
    hc_key_fn fn;                   /* HC_KIND_FN */
    const char *hint;               /* short value syntax for messages (or what a name is) */
    const char *dflt;               /* README "default" column ("" when none) */
    const char *doc;                /* README "value" column: one line */
};

extern const hc_section_def hc__sections[];
extern const size_t hc__nsections;
extern const hc_key_def hc__keys[];
extern const size_t hc__nkeys;

/* The row for `name` in section `sec`, or NULL. */
const hc_key_def *hc__key_find(hc_section_kind sec, const char *name);
const hc_section_def *hc__section_def(hc_section_kind sec);
/* "id, title, ..." : the keys of a section, as the table lists them. */
void hc__keys_known(hc_section_kind sec, char *buf, size_t len);
/* "case, state, ..., heavy.NAME, ...": every section. */
void hc__sections_known(char *buf, size_t len);

/* The README's key reference of one section (a Markdown table), from the
 * table. Returns 0, or -1 on a write error. */
int hc__keys_markdown(FILE *f, hc_section_kind sec);

#endif
