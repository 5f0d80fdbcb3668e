/* harness case module, value syntax (syntax.c): the parser's state as key
 * readers see it, the first-error recorder, and the strict readers of the
 * value kinds every part of the module shares. Internal to the case module. */
#ifndef GAPCHECK_HARNESS_SYNTAX_H
#define GAPCHECK_HARNESS_SYNTAX_H

#include <stddef.h>
#include <stdint.h>

#include "case_int.h"

typedef enum hc_section_kind {
    HC_SEC_NONE = 0,
    HC_SEC_CASE,
    HC_SEC_STATE,
    HC_SEC_DOMAIN,
    HC_SEC_CONTRACT,
    HC_SEC_EXPECT,
    HC_SEC_RUN,
    HC_SEC_HEAVY,                   /* [heavy.NAME]: keys go to an hc_entry */
    HC_SEC_OUTPUT,                  /* [output.NAME]: keys go to an hc_entry */
    HC_SEC_CLAIM,                   /* [claim.NAME]: keys go to an hc_claim_spec */
    HC_SEC_COUNT
} hc_section_kind;

/* The parser's state, as key readers see it. */

typedef struct hc_seen_key {
    char *key;                      /* "section.key" */
    int line;
} hc_seen_key;

typedef struct hc_parser {
    hc_case *c;
    hc_error *err;
    int failed;
    int rc;                         /* status of the first error */
    const char *text;               /* NUL-terminated copy of the input */
    size_t len, pos;
    int line;                       /* line most recently handed to inih */
    hc_section_kind sec;            /* current section, from the reader */
    char sec_name[256];             /* as written between the brackets */
    size_t sec_index;               /* entry or claim index for named sections */
    int sec_line[HC_SEC_COUNT];     /* header line of each simple section, 0 = absent */
    hc_seen_key *seen;              /* every key read, with its line */
    size_t nseen, capseen;
} hc_parser;

/* Records the first error (file, line, key, reason); returns 0. */
int hc__fail(hc_parser *p, int line, const char *key, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Calls fn for each trimmed item of a comma list; an empty value is an empty
 * list. 1 = every item accepted. */
typedef int (*hc_item_fn)(hc_parser *p, const char *key, const char *item, void *arg);
int hc__for_each_item(hc_parser *p, const char *key, const char *value, hc_item_fn fn, void *arg);

/* Strict whole-string value syntax: 0 ok, -1 malformed (-2: size over the
 * entry limit). */
int hc__parse_i64(const char *s, int64_t *out);
int hc__parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
int hc__parse_double(const char *s, double *out);
int hc__parse_bool(const char *s, int *out);
int hc__parse_size(const char *s, uint64_t *out);
/* An id, tag or incident: [A-Za-z0-9_.:/-], first char alphanumeric, < max. */
int hc__ident_ok(const char *s, size_t max);
char *hc__strdup(const char *s);

#endif
