/* harness case module, value syntax and the parser's error: the strict,
 * whole-string readers of integers, numbers, booleans, sizes, identifiers
 * and comma lists that the parser (parse.c), the key readers (keys.c) and
 * the requirement probes (probe.c) share, and hc__fail, which records the
 * first error with its file, line and key. It depends on nothing else of
 * the module, so the modules above it form no loop. */
#include "syntax.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/gapcheck.h"

/* --------------------------------------------------------------------- */
/* Errors                                                                 */

/* Records the first error only: later ones are usually its consequences. */
int hc__fail(hc_parser *p, int line, const char *key, int rc, const char *fmt, ...)
{
    if (p->failed)
        return 0;
    p->failed = 1;
    p->rc = rc;
    p->err->line = line;
    snprintf(p->err->key, sizeof p->err->key, "%s", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return 0;
}

char *hc__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* --------------------------------------------------------------------- */
/* Value syntax helpers: strict, whole-string, range-checked.             */

/* Exactly what cases/README.md documents, nothing strtoll would also take:
 * an optional '-' and decimal digits, or 0x and hex digits (no '+', no
 * spaces, no octal reading of a leading 0). */
int hc__parse_i64(const char *s, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s) || *s == '+')
        return -1;
    const char *digits = s + (*s == '-' || *s == '+');
    int base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
    if (base == 16 && *s == '-')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno || end == s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* A count: decimal digits only (no sign, no 0x: "workers = 0x2" is not a
 * documented form), in lo..hi. */
int hc__parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    int64_t v;
    if (strspn(s, "0123456789") != strlen(s) || hc__parse_i64(s, &v) || v < (int64_t)lo ||
        v > (int64_t)hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A decimal number with an optional exponent (1.5, -2e-3); strtod's hex
 * floats, "inf" and "nan" are not documented forms. */
int hc__parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s) || *s == '+' ||
        strspn(s, "0123456789.eE-+") != strlen(s))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int hc__parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* "100MiB": a decimal count and a unit (B, KiB, MiB, GiB); the unit is
 * required so that no one has to guess whether 100 means bytes. */
int hc__parse_size(const char *s, uint64_t *out)
{
    static const struct { const char *unit; unsigned shift; } units[] = {
        {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30},
    };
    const char *q = s;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == s || q - s > 15)
        return -1;
    uint64_t n = 0;
    for (const char *d = s; d < q; d++)
        n = n * 10 + (uint64_t)(*d - '0');
    /* The unit follows the count directly: "1 MiB" is not a documented form. */
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(q, units[i].unit) == 0) {
            if (n > (GC_ZONE_ENTRY_MAX >> units[i].shift))
                return -2;
            *out = n << units[i].shift;
            return 0;
        }
    }
    return -1;
}

/* An id, tag or incident: [A-Za-z0-9_.:/-], first char alphanumeric. */
int hc__ident_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && !strchr("_.:/-", ch))
            return 0;
    }
    return 1;
}

int hc__for_each_item(hc_parser *p, const char *key, const char *value, hc_item_fn fn, void *arg)
{
    if (!*value)
        return 1;
    char item[512];
    const char *s = value;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n == 0)
            return hc__fail(p, p->line, key, GC_EINVAL, "empty item in comma list '%s'", value);
        if (n >= sizeof item)
            return hc__fail(p, p->line, key, GC_EINVAL, "list item of %zu bytes is too long", n);
        memcpy(item, s, n);
        item[n] = '\0';
        if (!fn(p, key, item, arg))
            return 0;
        if (!comma)
            return 1;
        s = comma + 1;
    }
}


