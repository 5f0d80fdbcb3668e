/* harness: text helpers (see text.h). The UTF-8 decoder is the one place that
 * decides what "valid" means; every escaper walks text through it. */
#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decode one code point at s (NUL-terminated). Returns its length in bytes
 * (>= 1) and sets *cp, or sets *cp = -1 for an invalid sequence and returns
 * 1, so that the caller skips one byte and resynchronises. */
static size_t hr__utf8_next(const unsigned char *s, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    int32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; v = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; v = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {   /* also stops at the NUL */
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

static const char hr__fffd[] = "\xef\xbf\xbd";

char *hr_utf8_clean(const char *s)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1);   /* each bad byte grows to 3 */
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        int32_t cp;
        size_t n = hr__utf8_next(p, &cp);
        if (cp < 0) {
            memcpy(out + o, hr__fffd, 3);
            o += 3;
        } else {
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    out[o] = '\0';
    return out;
}

/* Walk s through the decoder: an invalid sequence becomes U+FFFD, every
 * code point else goes to `one` (cp, its bytes p[n], the escaper's arg). */
typedef void (*hr__cp_fn)(FILE *f, int32_t cp, const unsigned char *p, size_t n,
                          const char *arg);

static int hr__escape(FILE *f, const char *s, hr__cp_fn one, const char *arg)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        int32_t cp;
        size_t n = hr__utf8_next(p, &cp);
        if (cp == -1)
            fputs(hr__fffd, f);
        else
            one(f, cp, p, n, arg);
        p += n;
    }
    return ferror(f) ? -1 : 0;
}

static void hr__xml_one(FILE *f, int32_t cp, const unsigned char *p, size_t n, const char *arg)
{
    (void)arg;
    switch (cp) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    case '\t': fputs("&#9;", f); break;
    case '\n': fputs("&#10;", f); break;
    case '\r': fputs("&#13;", f); break;
    default:
        /* XML 1.0 Char excludes C0 controls and U+FFFE/U+FFFF; DEL and
         * C1 are allowed but are shown visibly too, as nobody means them. */
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            fprintf(f, "\\x%02X", (unsigned)cp);
        else if (cp == 0xfffe || cp == 0xffff)
            fputs(hr__fffd, f);
        else
            fwrite(p, 1, n, f);
    }
}

int hr_xml_escape(FILE *f, const char *s)
{
    return hr__escape(f, s, hr__xml_one, NULL);
}

/* Backslash escaping shared by TAP and YAML: each code point in `specials`
 * (the arg) gets a backslash (newline and tab as \n and \t), other control
 * characters \xNN; the rest is copied. */
static void hr__backslash_one(FILE *f, int32_t cp, const unsigned char *p, size_t n,
                              const char *specials)
{
    if (cp > 0 && cp < 0x80 && strchr(specials, (int)cp))
        fprintf(f, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : (char)cp);
    else if (cp < 0x20 || cp == 0x7f)
        fprintf(f, "\\x%02X", (unsigned)cp);
    else
        fwrite(p, 1, n, f);
}

int hr_tap_escape(FILE *f, const char *s)
{
    return hr__escape(f, s, hr__backslash_one, "#\\\n");
}

int hr_yaml_quote(FILE *f, const char *s)
{
    fputc('"', f);
    hr__escape(f, s, hr__backslash_one, "\"\\\n\t");
    fputc('"', f);
    return ferror(f) ? -1 : 0;
}

static void hr__md_one(FILE *f, int32_t cp, const unsigned char *p, size_t n, const char *arg)
{
    (void)arg;
    if (cp == '|')
        fputs("\\|", f);
    else if (cp == '\n' || cp == '\t')
        fputc(' ', f);
    else if (cp == '<')
        fputs("&lt;", f);   /* renderers would read it as HTML */
    else if (cp >= 0x20 && cp != 0x7f)
        fwrite(p, 1, n, f);
}

int hr_md_cell(FILE *f, const char *s)
{
    return hr__escape(f, s, hr__md_one, NULL);
}

static int hr__shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "-_./=:,+@%", *s))
            return 0;
    return 1;
}

int hr_shell_append(char *buf, size_t len, const char *s)
{
    size_t o = strlen(buf);
    size_t start = o;
    int safe = hr__shell_safe(s);
#define HR_PUT(ch)                         \
    do {                                   \
        if (o + 1 >= len) goto overflow;   \
        buf[o++] = (ch);                   \
    } while (0)
    if (o > 0)
        HR_PUT(' ');
    if (safe) {
        for (const char *p = s; *p; p++)
            HR_PUT(*p);
    } else {
        HR_PUT('\'');
        for (const char *p = s; *p; p++) {
            if (*p == '\'') {   /* close, escaped quote, reopen */
                HR_PUT('\''); HR_PUT('\\'); HR_PUT('\''); HR_PUT('\'');
            } else {
                HR_PUT(*p);
            }
        }
        HR_PUT('\'');
    }
#undef HR_PUT
    buf[o] = '\0';
    return 0;
overflow:
    if (len)
        buf[start < len ? start : len - 1] = '\0';
    return -1;
}

int hr_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}
