/* The case grammar as data (harness/case/keys.c): the parser's messages and
 * cases/README.md's key reference come from the tables, so they cannot drift
 * from what the parser accepts. A README block that differs from the table
 * fails here and the expected block is printed, ready to paste. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "probe.h"
#include "suites.h"

#define MIN_CASE "[case]\nid = x\ntitle = t\nprocess = echo\n"

static void parse_error(const char *text, hc_error *err)
{
    hc_case *c = NULL;
    int rc = hc_case_parse("g.case", text, strlen(text), &c, err);
    ck_assert_msg(rc < 0, "parse succeeded:\n%s", text);
    ck_assert_ptr_null(c);
}

/* An unknown key in every section names every key of that section. */
START_TEST(known_keys_come_from_the_table)
{
    for (size_t s = 0; s < hc__nsections; s++) {
        const hc_section_def *sd = &hc__sections[s];
        if (sd->sec == HC_SEC_DOMAIN)
            continue;                   /* any name is a domain key */
        char text[512];
        snprintf(text, sizeof text, MIN_CASE "[%s%s]\nno_such_key = 1\n",
                 sd->sec == HC_SEC_CASE ? "run" : sd->name, sd->named ? ".n" : "");
        if (sd->sec == HC_SEC_CASE)     /* [case] is open already: a key of it */
            snprintf(text, sizeof text, MIN_CASE "no_such_key = 1\n");
        hc_error err;
        parse_error(text, &err);
        ck_assert_msg(strstr(err.message, "unknown key in [") != NULL, "[%s]: %s", sd->name,
                      err.message);
        size_t nrows = 0;
        for (size_t k = 0; k < hc__nkeys; k++) {
            if (hc__keys[k].sec != sd->sec)
                continue;
            nrows++;
            ck_assert_msg(strstr(err.message, hc__keys[k].name) != NULL,
                          "[%s]: '%s' lacks key %s", sd->name, err.message, hc__keys[k].name);
        }
        ck_assert_msg(nrows > 0, "section [%s] has no key rows", sd->name);
    }
}
END_TEST

START_TEST(known_sections_and_values_come_from_the_tables)
{
    hc_error err;
    parse_error(MIN_CASE "[nonsense]\n", &err);
    for (size_t s = 0; s < hc__nsections; s++)
        ck_assert_msg(strstr(err.message, hc__sections[s].name) != NULL, "'%s' lacks [%s]",
                      err.message, hc__sections[s].name);
    parse_error(MIN_CASE "requires = gpu\n", &err);
    char known[256];
    hc_probe_requirements_known(known, sizeof known);
    ck_assert_msg(strstr(err.message, known) != NULL, "'%s' lacks '%s'", err.message, known);
    ck_assert_ptr_nonnull(strstr(known, "mem>=SIZE"));
    parse_error(MIN_CASE "[claim.c]\nmetric = speed\n", &err);
    for (size_t m = 0; m < hc__nmetrics; m++)
        ck_assert_msg(strstr(err.message, hc__metrics[m].name) != NULL, "'%s' lacks %s",
                      err.message, hc__metrics[m].name);
}
END_TEST

/* A missing required key is found from the table, in every section that
 * has one, and reported at the section's header line. */
START_TEST(required_keys_come_from_the_table)
{
    for (size_t k = 0; k < hc__nkeys; k++) {
        const hc_key_def *kd = &hc__keys[k];
        if (!kd->required)
            continue;
        const hc_section_def *sd = hc__section_def(kd->sec);
        char text[512], want[128];
        if (kd->sec == HC_SEC_CASE) {
            /* [case] with every required key but this one. */
            snprintf(text, sizeof text, "[case]\n%s%s%s",
                     strcmp(kd->name, "id") ? "id = x\n" : "",
                     strcmp(kd->name, "title") ? "title = t\n" : "",
                     strcmp(kd->name, "process") ? "process = echo\n" : "");
            snprintf(want, sizeof want, "case.%s", kd->name);
        } else {
            snprintf(text, sizeof text, MIN_CASE "[%s.n]\n", sd->name);
            snprintf(want, sizeof want, "%s.n.%s", sd->name, kd->name);
        }
        hc_error err;
        parse_error(text, &err);
        if (kd->sec != HC_SEC_CASE) {
            /* The first required row of the section is reported first. */
            const hc_key_def *first = NULL;
            for (size_t j = 0; j < hc__nkeys && !first; j++)
                if (hc__keys[j].sec == kd->sec && hc__keys[j].required)
                    first = &hc__keys[j];
            if (first != kd)
                continue;
        }
        ck_assert_str_eq(err.key, want);
        ck_assert_msg(strstr(err.message, "missing required key") != NULL, "%s", err.message);
        ck_assert_int_eq(err.line, kd->sec == HC_SEC_CASE ? 1 : 5);
    }
}
END_TEST

/* Each requirement row: its syntax (with and without a valid argument) and
 * what it answers on this machine, with the reason when it is not met. */
START_TEST(requirements_probe_each_row)
{
    char d[128];
    ck_assert(hc_probe_requirement_ok("memfd"));
    ck_assert(hc_probe_requirement_ok("cores>=2"));
    ck_assert(hc_probe_requirement_ok("mem>=64MiB"));
    ck_assert(!hc_probe_requirement_ok("memfds"));
    ck_assert(!hc_probe_requirement_ok("cores>="));
    ck_assert(!hc_probe_requirement_ok("cores>=4097"));
    ck_assert(!hc_probe_requirement_ok("mem>=64"));
    ck_assert_int_eq(hc_probe_requirement_met("gpu", d, sizeof d), 0);
    ck_assert_str_eq(d, "unknown requirement");
    ck_assert_int_eq(hc_probe_requirement_met("memfd", d, sizeof d), 1);
    ck_assert_int_eq(hc_probe_requirement_met("cores>=1", d, sizeof d), 1);
    ck_assert_int_eq(hc_probe_requirement_met("cores>=4096", d, sizeof d), 0);
    ck_assert_ptr_nonnull(strstr(d, "cores online"));
    ck_assert_int_eq(hc_probe_requirement_met("mem>=1B", d, sizeof d), 1);
    /* valgrind: found on PATH or not, named either way. */
    char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-dir", 1);
    ck_assert_int_eq(hc_probe_requirement_met("valgrind", d, sizeof d), 0);
    ck_assert_ptr_nonnull(strstr(d, "not on PATH"));
    char dir[] = "/tmp/hc-probe-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char prog[64];
    snprintf(prog, sizeof prog, "%s/valgrind", dir);
    FILE *f = fopen(prog, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(chmod(prog, 0755), 0);
    char path[128];
    snprintf(path, sizeof path, "/nonexistent-dir::%s", dir);
    setenv("PATH", path, 1);
    ck_assert_int_eq(hc_probe_requirement_met("valgrind", d, sizeof d), 1);
    unlink(prog);
    rmdir(dir);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    /* native-limits: not met under valgrind's preload. */
    const char *pre = getenv("LD_PRELOAD");
    char *savedpre = pre ? strdup(pre) : NULL;
    setenv("LD_PRELOAD", "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so", 1);
    ck_assert_int_eq(hc_probe_requirement_met("native-limits", d, sizeof d), 0);
    ck_assert_str_eq(d, "running under valgrind");
    if (savedpre)
        setenv("LD_PRELOAD", savedpre, 1);
    else
        unsetenv("LD_PRELOAD");
    free(savedpre);
}
END_TEST

/* The generated text of one README block, by its name. */
static char *generate(const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    int rc = -1;
    if (strcmp(name, "requirements") == 0)
        rc = hc_probe_requirements_markdown(f);
    else if (strcmp(name, "metrics") == 0)
        rc = hc__metrics_markdown(f);
    else if (strcmp(name, "builtins") == 0) {
        fputs("| process | what it does |\n| --- | --- |\n", f);
        for (size_t i = 0; gc_builtins_at(i); i++)
            fprintf(f, "| `%s` | %s |\n", gc_builtins_at(i)->name, gc_builtins_at(i)->doc);
        rc = 0;
    }
    else
        for (size_t s = 0; s < hc__nsections; s++) {
            char want[64];
            snprintf(want, sizeof want, "keys [%s]", hc__sections[s].name);
            if (strcmp(name, want) == 0)
                rc = hc__keys_markdown(f, hc__sections[s].sec);
        }
    fclose(f);
    ck_assert_msg(rc == 0, "no generator for README block '%s'", name);
    return buf;
}

/* With HC_README_WRITE set (make readme-blocks), blocks that differ are
 * rewritten in place instead of failing: adding a row to a table is the
 * only hand edit, the README follows. */
START_TEST(readme_reference_matches_the_tables)
{
    int rewrite = getenv("HC_README_WRITE") != NULL;
    char *all = NULL;
    size_t alen = 0;
    FILE *out = open_memstream(&all, &alen);
    ck_assert_ptr_nonnull(out);
    const char *dir = getenv("HC_CASES_DIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/README.md", dir ? dir : "cases");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static const char open_tag[] = "<!-- generated: ";
    char line[8192], name[128] = "";
    char *have = NULL;
    size_t hlen = 0;
    FILE *h = NULL;
    int blocks = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (!h && strncmp(line, open_tag, sizeof open_tag - 1) == 0) {
            const char *s = line + sizeof open_tag - 1;
            size_t n = strcspn(s, "(");
            ck_assert_msg(n > 1 && n < sizeof name, "bad marker: %s", line);
            snprintf(name, sizeof name, "%.*s", (int)(n - 1), s);
            h = open_memstream(&have, &hlen);
            fputs(line, out);
            continue;
        }
        if (h && strncmp(line, "<!-- end generated -->", 22) == 0) {
            fclose(h);
            h = NULL;
            char *want = generate(name);
            if (strcmp(have, want) != 0 && rewrite) {
                fprintf(stderr, "%s: block '%s' rewritten from the table\n", path, name);
            } else if (strcmp(have, want) != 0) {
                fprintf(stderr, "%s: block '%s' differs from the table; it should read:\n%s",
                        path, name, want);
                bad++;
            }
            fputs(want, out);
            fputs(line, out);
            free(want);
            free(have);
            have = NULL;
            blocks++;
            continue;
        }
        if (h)
            fputs(line, h);
        else
            fputs(line, out);
    }
    fclose(f);
    fclose(out);
    if (rewrite && h == NULL) {
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *w = fopen(tmp, "w");
        ck_assert_msg(w != NULL, "cannot write %s", tmp);
        ck_assert_int_eq(fwrite(all, 1, alen, w), alen);
        ck_assert_int_eq(fclose(w), 0);
        ck_assert_msg(rename(tmp, path) == 0, "cannot replace %s", path);
    }
    free(all);
    ck_assert_msg(h == NULL, "%s: block '%s' has no end marker", path, name);
    ck_assert_msg(bad == 0, "%s: %d generated block(s) differ from harness/case/ (see stderr)",
                  path, bad);
    /* Every section's keys, the requirements, the metrics, the built-ins. */
    ck_assert_int_eq(blocks, (int)hc__nsections + 3);
}
END_TEST

Suite *suite_case_grammar(void)
{
    Suite *s = suite_create("case_grammar");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, known_keys_come_from_the_table);
    tcase_add_test(tc, known_sections_and_values_come_from_the_tables);
    tcase_add_test(tc, required_keys_come_from_the_table);
    tcase_add_test(tc, readme_reference_matches_the_tables);
    tcase_add_test(tc, requirements_probe_each_row);
    suite_add_tcase(s, tc);
    return s;
}
