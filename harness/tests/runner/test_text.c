/* Escapers: XML (quotes, <, &, control characters, invalid UTF-8), TAP, YAML,
 * Markdown, shell quoting, UTF-8 cleaning. Each output is checked byte for
 * byte, since "looks escaped" is how escaping bugs survive review. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef int (*hr_escaper)(FILE *, const char *);

static char *render(hr_escaper fn, const char *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fn(f, in), 0);
    fclose(f);
    return buf;
}

#define CHECK_ESC(fn, in, want)                     \
    do {                                            \
        char *got_ = render(fn, in);                \
        ck_assert_str_eq(got_, want);               \
        free(got_);                                 \
    } while (0)

START_TEST(xml_escapes_markup_and_quotes)
{
    CHECK_ESC(hr_xml_escape, "a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&apos;");
    CHECK_ESC(hr_xml_escape, "", "");
    CHECK_ESC(hr_xml_escape, NULL, "");
    CHECK_ESC(hr_xml_escape, "&amp;", "&amp;amp;");
}
END_TEST

START_TEST(xml_control_characters)
{
    /* Tab/LF/CR as references (attributes keep them); others are not XML 1.0. */
    CHECK_ESC(hr_xml_escape, "a\tb\nc\rd", "a&#9;b&#10;c&#13;d");
    CHECK_ESC(hr_xml_escape, "x\x01y\x1bz\x7f", "x\\x01y\\x1Bz\\x7F");
}
END_TEST

START_TEST(xml_invalid_utf8)
{
    CHECK_ESC(hr_xml_escape, "caf\xc3\xa9", "caf\xc3\xa9");               /* valid é */
    CHECK_ESC(hr_xml_escape, "a\xff" "b", "a\xef\xbf\xbd" "b");           /* stray byte */
    CHECK_ESC(hr_xml_escape, "a\xc3", "a\xef\xbf\xbd");                   /* truncated */
    CHECK_ESC(hr_xml_escape, "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");     /* overlong */
    CHECK_ESC(hr_xml_escape, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    CHECK_ESC(hr_xml_escape, "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");     /* 4-byte ok */
    CHECK_ESC(hr_xml_escape, "\xef\xbf\xbe", "\xef\xbf\xbd");             /* U+FFFE */
}
END_TEST

START_TEST(utf8_clean)
{
    char *s = hr_utf8_clean("ok\xfe\xc3\xa9");
    ck_assert_str_eq(s, "ok\xef\xbf\xbd\xc3\xa9");
    free(s);
    s = hr_utf8_clean(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(tap_and_yaml)
{
    CHECK_ESC(hr_tap_escape, "a # b\nc\\", "a \\# b\\nc\\\\");
    CHECK_ESC(hr_tap_escape, "x\x02", "x\\x02");
    CHECK_ESC(hr_yaml_quote, "say \"hi\"\n\tnow\\\x01", "\"say \\\"hi\\\"\\n\\tnow\\\\\\x01\"");
    CHECK_ESC(hr_md_cell, "a|b\n<c>\x01", "a\\|b &lt;c>");
}
END_TEST

START_TEST(shell_quoting)
{
    char buf[256] = "";
    ck_assert_int_eq(hr_shell_append(buf, sizeof buf, "build/gapcheck"), 0);
    ck_assert_int_eq(hr_shell_append(buf, sizeof buf, "INC-014/x[process]"), 0);
    ck_assert_int_eq(hr_shell_append(buf, sizeof buf, "it's"), 0);
    ck_assert_int_eq(hr_shell_append(buf, sizeof buf, ""), 0);
    ck_assert_str_eq(buf, "build/gapcheck 'INC-014/x[process]' 'it'\\''s' ''");
    char small[8] = "";
    ck_assert_int_eq(hr_shell_append(small, sizeof small, "abc"), 0);
    ck_assert_int_eq(hr_shell_append(small, sizeof small, "defgh"), -1);
    ck_assert_str_eq(small, "abc");   /* a failed append leaves what was there */
}
END_TEST

Suite *suite_runner_text(void);
Suite *suite_runner_text(void)
{
    Suite *s = suite_create("runner_text");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, xml_escapes_markup_and_quotes);
    tcase_add_test(tc, xml_control_characters);
    tcase_add_test(tc, xml_invalid_utf8);
    tcase_add_test(tc, utf8_clean);
    tcase_add_test(tc, tap_and_yaml);
    tcase_add_test(tc, shell_quoting);
    suite_add_tcase(s, tc);
    return s;
}
