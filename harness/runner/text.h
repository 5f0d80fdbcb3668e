/* harness: text helpers shared by the renderers and the console (hr_*).
 *
 * Case files, messages and captured output are untrusted bytes. Each output
 * format has its own rules (JSON wants valid UTF-8, XML 1.0 forbids most
 * control characters even as references, TAP is line-based, a shell needs
 * quoting), so the rules live here, once, with their tests. */
#ifndef GAPCHECK_HARNESS_TEXT_H
#define GAPCHECK_HARNESS_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Copy s into a new string where every invalid UTF-8 sequence (overlong,
 * surrogate, > U+10FFFF, truncated) becomes U+FFFD. NULL when out of memory;
 * NULL s gives "". */
char *hr_utf8_clean(const char *s);

/* Write s as XML character data / attribute value: & < > " ' escaped, tab,
 * LF and CR as references (so attributes keep them), other control
 * characters (not allowed in XML 1.0) as the visible text "\xNN", invalid
 * UTF-8 as U+FFFD. Returns 0 or -1 on a write error. */
int hr_xml_escape(FILE *f, const char *s);

/* Write s on one line for a TAP description: control characters and
 * newlines as "\xNN"/"\n", '#' as "\#" (or TAP reads it as a directive),
 * invalid UTF-8 as U+FFFD. */
int hr_tap_escape(FILE *f, const char *s);

/* Write s as a YAML double-quoted scalar, with its quotes. */
int hr_yaml_quote(FILE *f, const char *s);

/* Write s as a Markdown table cell: '|' escaped, newlines as spaces,
 * control characters dropped, invalid UTF-8 as U+FFFD. */
int hr_md_cell(FILE *f, const char *s);

/* snprintf that is meant to truncate: messages are cut at their buffer's
 * size on purpose. Returns what snprintf returns. */
int hr_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append s to buf (NUL-terminated, size len) quoted for a POSIX shell: bare
 * when it only has safe characters, else in single quotes. Returns 0, or -1
 * when it does not fit (buf is left terminated). */
int hr_shell_append(char *buf, size_t len, const char *s);

#endif
