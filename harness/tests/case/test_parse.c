/* Case-file parser tests: a full good case read field by field, defaults, and
 * one test per kind of error, each asserting the file, line and key reported
 * (a bad case must point at its own line, or the author cannot fix it). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_int.h"
#include "suites.h"

static const char good_case[] =
    "# a comment\n"
    "; another comment\n"
    "[case]\n"
    "id = INC-014.heavy-visible\n"
    "title = Workers see every heavy entry; byte for byte\n"
    "incident = INC-014\n"
    "tags = heavy, checksum,smoke\n"
    "timeout = 30\n"
    "mode = both\n"
    "workers = 4\n"
    "tasks = 16\n"
    "process = checksum\n"
    "task_timeout_ms = 5000\n"
    "requires = memfd, seals, cores>=1, mem>=1MiB\n"
    "\n"
    "[domain]\n"
    "n = int:-5\n"
    "h = int:0x10\n"
    "ratio = double:1.5\n"
    "name = str:hello world\n"
    "blob = bytes:hex:00ff7A\n"
    "empty = str:\n"
    "\n"
    "[heavy.large_data]\n"
    "size = 100MiB\n"
    "fill = sequence\n"
    "\n"
    "[heavy.small.odd-name_1]\n"
    "size = 4097B\n"
    "fill = random:42\n"
    "\n"
    "[heavy.seeded]\n"
    "size = 1KiB\n"
    "fill = random\n"
    "\n"
    "[output.result]\n"
    "size = 1GiB\n"
    "\n"
    "[contract]\n"
    "domain_reads = n, name\n"
    "heavy_reads = large_data, small.odd-name_1\n"
    "outputs = result\n"
    "\n"
    "[expect]\n"
    "status = ok\n"
    "status.3 = ETIMEOUT\n"
    "status.15 = GC_ECONTRACT\n"
    "value = checksum\n"
    "text_contains = sum\n"
    "output.result = pattern:sequence\n"
    "heavy_unchanged = true\n"
    "max_wall_ms = 2000\n"
    "\n"
    "[claim.handoff]\n"
    "text = 100 MB handed to a worker in 48 ms\n"
    "metric = task_wall_ms\n"
    "claimed = 48\n"
    "unit = ms\n";

static hc_case *parse_ok(const char *text)
{
    hc_case *c = NULL;
    hc_error err;
    int rc = hc_case_parse("good.case", text, strlen(text), &c, &err);
    ck_assert_msg(rc == GC_OK, "parse failed: %s:%d: %s: %s", err.path, err.line, err.key,
                  err.message);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Parse text expected to fail; check line, key and a piece of the reason. */
static void expect_error(const char *text, int line, const char *key, const char *needle)
{
    hc_case *c = (hc_case *)1;
    hc_error err;
    int rc = hc_case_parse("bad.case", text, strlen(text), &c, &err);
    ck_assert_msg(rc < 0, "parse of bad text succeeded:\n%s", text);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err.path, "bad.case");
    ck_assert_msg(err.line == line, "line %d, expected %d (%s: %s)", err.line, line, err.key,
                  err.message);
    ck_assert_str_eq(err.key, key);
    ck_assert_msg(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message,
                  needle);
}

#define MIN_CASE "[case]\nid = x\ntitle = t\nprocess = echo\n"   /* lines 1-4 */

START_TEST(good_case_fields)
{
    hc_case *c = parse_ok(good_case);
    const hc_case_info *in = hc_case_get_info(c);
    ck_assert_str_eq(in->path, "good.case");
    ck_assert_str_eq(in->id, "INC-014.heavy-visible");
    ck_assert_str_eq(in->title, "Workers see every heavy entry; byte for byte");
    ck_assert_str_eq(in->incident, "INC-014");
    ck_assert_int_eq(in->ntags, 3);
    ck_assert_str_eq(in->tags[0], "heavy");
    ck_assert_str_eq(in->tags[1], "checksum");
    ck_assert_str_eq(in->tags[2], "smoke");
    ck_assert(in->timeout_s == 30.0);
    ck_assert_int_eq(in->nmodes, 2);
    ck_assert_int_eq(in->modes[0], GC_MODE_THREAD);
    ck_assert_int_eq(in->modes[1], GC_MODE_PROCESS);
    ck_assert_int_eq(in->nrequires, 4);
    ck_assert_str_eq(in->requires[3], "mem>=1MiB");
    ck_assert_str_eq(in->xfail, "");
    ck_assert_str_eq(c->process, "checksum");
    ck_assert_uint_eq(c->workers, 4);
    ck_assert_uint_eq(c->tasks, 16);
    ck_assert_uint_eq(c->task_timeout_ms, 5000);

    ck_assert_uint_eq(c->ndomain, 6);
    ck_assert_str_eq(c->domain[0].name, "n");
    ck_assert_int_eq(c->domain[0].type, GC_VAL_INT);
    ck_assert_int_eq(c->domain[0].i, -5);
    ck_assert_int_eq(c->domain[1].i, 16);
    ck_assert_int_eq(c->domain[2].type, GC_VAL_DOUBLE);
    ck_assert(c->domain[2].d == 1.5);
    ck_assert_int_eq(c->domain[3].type, GC_VAL_STR);
    ck_assert_str_eq((const char *)c->domain[3].data, "hello world");
    ck_assert_int_eq(c->domain[4].type, GC_VAL_BYTES);
    ck_assert_uint_eq(c->domain[4].len, 3);
    ck_assert_int_eq(memcmp(c->domain[4].data, "\x00\xff\x7a", 3), 0);
    ck_assert_uint_eq(c->domain[5].len, 0);

    ck_assert_uint_eq(c->nentries, 4);
    ck_assert_str_eq(c->entries[0].name, "large_data");
    ck_assert_uint_eq(c->entries[0].size, 100u << 20);
    ck_assert_int_eq(c->entries[0].fill.kind, GC_PATTERN_SEQUENCE);
    ck_assert_int_eq(c->entries[0].line, 24);
    ck_assert_str_eq(c->entries[1].name, "small.odd-name_1");
    ck_assert_uint_eq(c->entries[1].size, 4097);
    ck_assert_int_eq(c->entries[1].fill.kind, GC_PATTERN_RANDOM);
    ck_assert_uint_eq(c->entries[1].fill.seed, 42);
    ck_assert_int_eq(c->entries[1].fill_from_seed, 0);
    ck_assert_int_eq(c->entries[2].fill_from_seed, 1);
    ck_assert_int_eq(c->entries[3].output, 1);
    ck_assert_uint_eq(c->entries[3].size, 1ull << 30);

    ck_assert_int_eq(c->has_contract, 1);
    ck_assert_uint_eq(c->domain_reads.n, 2);
    ck_assert_str_eq(c->domain_reads.v[1], "name");
    ck_assert_uint_eq(c->heavy_reads.n, 2);
    ck_assert_str_eq(c->heavy_reads.v[1], "small.odd-name_1");
    ck_assert_uint_eq(c->outputs.n, 1);

    ck_assert_int_eq(hc__expected_status(c, 0), GC_OK);
    ck_assert_int_eq(hc__expected_status(c, 3), GC_ETIMEOUT);
    ck_assert_int_eq(hc__expected_status(c, 15), GC_ECONTRACT);
    ck_assert_int_eq(c->value_kind, HC_VALUE_CHECKSUM);
    ck_assert_str_eq(c->text_contains, "sum");
    ck_assert_ptr_null(c->text);
    ck_assert_uint_eq(c->noutputs_exp, 1);
    ck_assert_int_eq(c->outputs_exp[0].pattern.kind, GC_PATTERN_SEQUENCE);
    ck_assert_int_eq(c->heavy_unchanged, 1);
    ck_assert(c->max_wall_ms == 2000.0);
    ck_assert_int_eq(c->nclaims, 1);
    ck_assert_str_eq(c->claims[0].name, "handoff");
    ck_assert_str_eq(c->claims[0].metric, "task_wall_ms");
    ck_assert(c->claims[0].claimed == 48.0);
    hc_case_free(c);
}
END_TEST

START_TEST(contract_section_is_recorded)
{
    hc_case *c = parse_ok(MIN_CASE "[contract]\nheavy_reads =\n");
    ck_assert_int_eq(c->has_contract, 1);
    ck_assert_int_eq(c->heavy_reads.set, 1);
    ck_assert_uint_eq(c->heavy_reads.n, 0);
    hc_case_free(c);
}
END_TEST

START_TEST(defaults)
{
    hc_case *c = parse_ok(MIN_CASE);
    const hc_case_info *in = hc_case_get_info(c);
    ck_assert_int_eq(in->nmodes, 2);
    ck_assert(in->timeout_s > 0);
    ck_assert_str_eq(in->incident, "");
    ck_assert_uint_eq(c->workers, 1);
    ck_assert_uint_eq(c->tasks, 1);
    ck_assert_uint_eq(c->task_timeout_ms, 0);
    ck_assert_int_eq(c->status_all, GC_OK);
    ck_assert_int_eq(c->value_kind, HC_VALUE_NONE);
    ck_assert_int_eq(c->zone_none, 0);
    ck_assert_int_eq(c->has_contract, 0);
    hc_case_free(c);

    /* tasks defaults to workers, whatever the key order. */
    c = parse_ok("[case]\nworkers = 8\nid = x\ntitle = t\nprocess = touch\nmode = thread\n"
                 "xfail = known bug\n[state]\nheavy_zone = none\n");
    ck_assert_uint_eq(c->tasks, 8);
    ck_assert_int_eq(hc_case_get_info(c)->nmodes, 1);
    ck_assert_int_eq(hc_case_get_info(c)->modes[0], GC_MODE_THREAD);
    ck_assert_str_eq(hc_case_get_info(c)->xfail, "known bug");
    ck_assert_int_eq(c->zone_none, 1);
    hc_case_free(c);
}
END_TEST

START_TEST(crlf_bom_and_no_final_newline)
{
    hc_case *c = parse_ok("\xEF\xBB\xBF[case]\r\nid = x\r\ntitle = t\r\nprocess = echo");
    ck_assert_str_eq(hc_case_get_info(c)->id, "x");
    ck_assert_str_eq(c->process, "echo");
    hc_case_free(c);
}
END_TEST

START_TEST(long_lines_and_63_char_names)
{
    /* A full 4 KiB bytes value fits on one line; a 63-char entry name is valid. */
    size_t hexlen = 2 * GC_VALUE_BYTES_MAX;
    char *text = malloc(hexlen + 512);
    ck_assert_ptr_nonnull(text);
    int n = sprintf(text, MIN_CASE "[heavy.%s]\nsize = 1B\nfill = zero\n[domain]\nb = bytes:hex:",
                    "a23456789.123456789-123456789_123456789.123456789-123456789_123");
    memset(text + n, 'a', hexlen);
    strcpy(text + n + hexlen, "\n");
    hc_case *c = parse_ok(text);
    ck_assert_uint_eq(strlen(c->entries[0].name), 63);
    ck_assert_uint_eq(c->domain[0].len, GC_VALUE_BYTES_MAX);
    hc_case_free(c);
    free(text);
}
END_TEST

START_TEST(error_nul_byte)
{
    static const char text[] = "[case]\nid = x\nti\0tle = t\n";
    hc_case *c = NULL;
    hc_error err;
    ck_assert_int_eq(hc_case_parse("nul.case", text, sizeof text - 1, &c, &err), GC_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.line, 3);
    ck_assert_ptr_nonnull(strstr(err.message, "NUL byte"));
}
END_TEST

START_TEST(error_line_too_long)
{
    size_t n = HC_LINE_MAX + 10;
    char *text = malloc(n + 64);
    ck_assert_ptr_nonnull(text);
    int k = sprintf(text, MIN_CASE "[domain]\ns = str:");
    memset(text + k, 'x', n);
    strcpy(text + k + n, "\n");
    expect_error(text, 6, "", "line is");
    free(text);
}
END_TEST

START_TEST(error_syntax)
{
    expect_error(MIN_CASE "this line has no equals sign\n", 5, "", "syntax error");
    expect_error(MIN_CASE "[domain\n", 5, "", "malformed section header");
    expect_error(MIN_CASE "[domain] trailing\n", 5, "", "malformed section header");
}
END_TEST

START_TEST(error_unknown_section_and_key)
{
    expect_error(MIN_CASE "[cases]\n", 5, "cases", "unknown section [cases]");
    expect_error(MIN_CASE "[heavy]\n", 5, "heavy", "unknown section");
    expect_error("id = x\n[case]\n", 1, "id", "outside any section");
    expect_error(MIN_CASE "colour = blue\n", 5, "case.colour", "unknown key in [case]");
    expect_error(MIN_CASE "[expect]\nvalues = 1\n", 6, "expect.values", "unknown key in [expect]");
    expect_error(MIN_CASE "[output.o]\nsize = 1B\nfill = zero\n", 7, "output.o.fill",
                 "outputs start zeroed");
    expect_error(MIN_CASE "[claim.c]\nlimit = 3\n", 6, "claim.c.limit", "unknown key");
    expect_error(MIN_CASE "[contract]\nwrites = a\n", 6, "contract.writes", "unknown key");
    expect_error(MIN_CASE "[state]\nzone = x\n", 6, "state.zone", "unknown key");
}
END_TEST

START_TEST(error_duplicates)
{
    expect_error(MIN_CASE "id = y\n", 5, "case.id", "duplicate key (first set at line 2)");
    expect_error(MIN_CASE "[case]\n", 5, "case", "appears twice (first at line 1)");
    expect_error(MIN_CASE "[heavy.a]\nsize = 1B\nfill = zero\n[output.a]\nsize = 1B\n", 8,
                 "output.a", "first as [heavy.a] at line 5");
    expect_error(MIN_CASE "[claim.c]\n[claim.c]\n", 6, "claim.c", "declared twice");
    expect_error(MIN_CASE "tags = a, b, a\n", 5, "case.tags", "listed twice");
    expect_error(MIN_CASE "[contract]\nheavy_reads = a,a\n", 6, "contract.heavy_reads",
                 "listed twice");
    expect_error(MIN_CASE "workers = 8\n[expect]\nstatus.3 = ok\nstatus.03 = ok\n", 8,
                 "expect.status.03", "already has a status (line 7)");
}
END_TEST

/* cases/README.md is the grammar: forms strtoll/strtod would take but the
 * page does not document are refused, each at its line and key. */
START_TEST(error_undocumented_forms)
{
    expect_error(MIN_CASE "workers = 0x2\n", 5, "case.workers", "");
    expect_error(MIN_CASE "workers = +2\n", 5, "case.workers", "");
    expect_error(MIN_CASE "task_timeout_ms = 1e3\n", 5, "case.task_timeout_ms", "");
    expect_error(MIN_CASE "[heavy.h]\nsize = 1 MiB\nfill = zero\n", 6, "heavy.h.size", "");
    expect_error(MIN_CASE "[heavy.h]\nsize = 0x10B\nfill = zero\n", 6, "heavy.h.size", "");
    expect_error(MIN_CASE "[expect]\nheavy_unchanged = yes\n", 6, "expect.heavy_unchanged",
                 "true or false");
    expect_error(MIN_CASE "[expect]\nheavy_unchanged = 1\n", 6, "expect.heavy_unchanged", "");
    expect_error(MIN_CASE "[expect]\nmax_wall_ms = 0x10\n", 6, "expect.max_wall_ms", "");
    expect_error(MIN_CASE "timeout = inf\n", 5, "case.timeout", "");
    expect_error(MIN_CASE "timeout = +5\n", 5, "case.timeout", "");
    expect_error(MIN_CASE "[domain]\nx = int:+5\n", 6, "domain.x", "64-bit integer");
    expect_error(MIN_CASE "[domain]\nx = double:0x1p3\n", 6, "domain.x", "finite number");
    expect_error(MIN_CASE "[expect]\nstatus.0x1 = ok\n", 6, "expect.status.0x1", "status.N");
    expect_error(MIN_CASE "[run]\nrounds = 0x3\n", 6, "run.rounds", "");
    /* The documented forms still load. */
    hc_case *c = parse_ok(MIN_CASE "workers = 2\ntimeout = 1.5e1\n[domain]\na = int:-5\n"
                          "b = int:0x10\nd = double:-2e-3\n[heavy.h]\nsize = 4097B\nfill = zero\n"
                          "[expect]\nheavy_unchanged = true\nmax_wall_ms = 2.5\n");
    ck_assert_uint_eq(c->workers, 2);
    ck_assert_uint_eq(c->entries[0].size, 4097);
    ck_assert(c->info.timeout_s == 15.0);
    ck_assert_int_eq(c->domain[1].i, 16);
    hc_case_free(c);
}
END_TEST

START_TEST(error_missing_required)
{
    expect_error("[domain]\nx = int:1\n", 0, "case", "missing section [case]");
    expect_error("", 0, "case", "missing section [case]");
    expect_error("\n[case]\ntitle = t\nprocess = echo\n", 2, "case.id", "missing required key");
    expect_error("[case]\nid = x\nprocess = echo\n", 1, "case.title", "missing required key");
    expect_error("[case]\nid = x\ntitle = t\n", 1, "case.process", "missing required key");
    expect_error(MIN_CASE "[heavy.h]\nfill = zero\n", 5, "heavy.h.size", "missing required key");
    expect_error(MIN_CASE "[heavy.h]\nsize = 1B\n", 5, "heavy.h.fill", "missing required key");
    expect_error(MIN_CASE "[output.o]\n", 5, "output.o.size", "missing required key");
    expect_error(MIN_CASE "[claim.c]\ntext = t\nmetric = wall_ms\nclaimed = 1\n", 5,
                 "claim.c.unit", "missing required key");
    expect_error(MIN_CASE "[claim.c]\nunit = ms\n", 5, "claim.c.text", "missing required key");
}
END_TEST

START_TEST(error_bad_case_values)
{
    expect_error(MIN_CASE "mode = fork\n", 5, "case.mode", "not one of thread, process, both");
    expect_error(MIN_CASE "workers = 0\n", 5, "case.workers", "1..256");
    expect_error(MIN_CASE "workers = 257\n", 5, "case.workers", "1..256");
    expect_error(MIN_CASE "workers = 2x\n", 5, "case.workers", "not an integer");
    expect_error(MIN_CASE "tasks = -1\n", 5, "case.tasks", "not an integer");
    expect_error(MIN_CASE "timeout = 0\n", 5, "case.timeout", "seconds");
    expect_error(MIN_CASE "timeout = soon\n", 5, "case.timeout", "seconds");
    expect_error(MIN_CASE "task_timeout_ms = 1.5\n", 5, "case.task_timeout_ms", "integer");
    expect_error("[case]\nid = x\ntitle = t\nprocess = ehco\n", 4, "case.process",
                 "not a built-in");
    expect_error("[case]\nid = has space\n", 2, "case.id", "is not an identifier: 1..127");
    expect_error("[case]\nid = -x\n", 2, "case.id", "is not an identifier: 1..127");
    expect_error(MIN_CASE "title =\n", 5, "case.title", "duplicate");
    expect_error("[case]\ntitle =\n", 2, "case.title", "title is empty");
    expect_error(MIN_CASE "tags = a,,b\n", 5, "case.tags", "empty item");
    expect_error(MIN_CASE "tags = a b\n", 5, "case.tags", "tag 'a b'");
    expect_error(MIN_CASE "xfail =\n", 5, "case.xfail", "needs a reason");
    expect_error(MIN_CASE "requires = memfd, gpu\n", 5, "case.requires", "unknown requirement 'gpu'");
    expect_error(MIN_CASE "requires = cores>=0\n", 5, "case.requires", "unknown requirement");
    expect_error(MIN_CASE "requires = mem>=1\n", 5, "case.requires", "unknown requirement");
    expect_error(MIN_CASE "incident = INC 14\n", 5, "case.incident", "not an identifier");
    expect_error(MIN_CASE "[state]\nheavy_zone = maybe\n", 6, "state.heavy_zone",
                 "published, none");
    expect_error(MIN_CASE "[state]\noutputs = readonly\n", 6, "state.outputs",
                 "writable, frozen");
    expect_error(MIN_CASE "[state]\noutputs = frozen\n", 6, "state.outputs",
                 "declares no [output.*] entry");
    expect_error(MIN_CASE "[state]\nheavy_zone = none\n[heavy.h]\nsize = 1B\nfill = zero\n", 6,
                 "state.heavy_zone", "declares 1 heavy/output entries (first at line 7)");
}
END_TEST

START_TEST(error_bad_domain_values)
{
    expect_error(MIN_CASE "[domain]\nx = 5\n", 6, "domain.x", "no type prefix");
    expect_error(MIN_CASE "[domain]\nx = int:5.5\n", 6, "domain.x", "not a 64-bit integer");
    expect_error(MIN_CASE "[domain]\nx = int:99999999999999999999\n", 6, "domain.x",
                 "not a 64-bit integer");
    expect_error(MIN_CASE "[domain]\nx = int:\n", 6, "domain.x", "not a 64-bit integer");
    expect_error(MIN_CASE "[domain]\nx = double:nan\n", 6, "domain.x", "not a finite number");
    expect_error(MIN_CASE "[domain]\nx = double:1e999\n", 6, "domain.x", "not a finite number");
    expect_error(MIN_CASE "[domain]\nx = bytes:hex:abc\n", 6, "domain.x", "odd digit count");
    expect_error(MIN_CASE "[domain]\nx = bytes:hex:zz\n", 6, "domain.x", "not a hex digit");
    expect_error(MIN_CASE "[domain]\nx = bytes:00\n", 6, "domain.x", "no type prefix");
    expect_error(MIN_CASE "[domain]\nbad/key = int:1\n", 6, "domain.bad/key", "domain key name");
    expect_error(MIN_CASE "[domain]\n.hidden = int:1\n", 6, "domain..hidden", "starts with '.'");
    char *text = malloc(GC_VALUE_BYTES_MAX + 128);
    ck_assert_ptr_nonnull(text);
    int k = sprintf(text, MIN_CASE "[domain]\ns = str:");
    memset(text + k, 'y', GC_VALUE_BYTES_MAX + 1);
    strcpy(text + k + GC_VALUE_BYTES_MAX + 1, "\n");
    expect_error(text, 6, "domain.s", "limit 4096");
    free(text);
}
END_TEST

START_TEST(error_bad_entries)
{
    expect_error(MIN_CASE "[heavy.h]\nsize = 100\nfill = zero\n", 6, "heavy.h.size",
                 "with a unit");
    expect_error(MIN_CASE "[heavy.h]\nsize = 100MB\nfill = zero\n", 6, "heavy.h.size",
                 "with a unit");
    expect_error(MIN_CASE "[heavy.h]\nsize = -1MiB\nfill = zero\n", 6, "heavy.h.size",
                 "with a unit");
    expect_error(MIN_CASE "[heavy.h]\nsize = 1025GiB\nfill = zero\n", 6, "heavy.h.size",
                 "1 TiB");
    expect_error(MIN_CASE "[heavy.h]\nsize = 1B\nfill = ones\n", 7, "heavy.h.fill",
                 "not one of zero, sequence, random:SEED");
    expect_error(MIN_CASE "[heavy.h]\nsize = 1B\nfill = random:x\n", 7, "heavy.h.fill",
                 "random:SEED");
    expect_error(MIN_CASE "[heavy.a/b]\n", 5, "heavy.a/b", "bad section name");
    expect_error(MIN_CASE "[heavy.]\n", 5, "heavy.", "empty");
    expect_error(MIN_CASE
                 "[heavy.a234567890123456789012345678901234567890123456789012345678901234]\n",
                 5, "heavy.a234567890123456789012345678901234567890123456789012345678901234",
                 "limit 63");
    /* A name over the limit is told its real length, not the limit plus one. */
#define K10 "kkkkkkkkkk"
#define K100 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10
    expect_error(MIN_CASE "[domain]\n" K100 " = int:1\n", 6, "domain." K100,
                 "domain key name is 100 bytes long (limit 63)");
#undef K100
#undef K10
}
END_TEST

START_TEST(error_bad_expectations)
{
    expect_error(MIN_CASE "[expect]\nstatus = EWHATEVER\n", 6, "expect.status",
                 "not a status name");
    expect_error(MIN_CASE "[expect]\nstatus.x = ok\n", 6, "expect.status.x", "status.N");
    expect_error(MIN_CASE "[expect]\nstatus.-1 = ok\n", 6, "expect.status.-1", "status.N");
    expect_error(MIN_CASE "workers = 4\n[expect]\nstatus.4 = ok\n", 7, "expect.status.4",
                 "task 4 does not exist (the case runs 4 tasks, 0..3)");
    expect_error(MIN_CASE "[expect]\nvalue = lots\n", 6, "expect.value",
                 "not checksum, touch or an integer");
    expect_error(MIN_CASE "[expect]\noutput.o = sequence\n", 6, "expect.output.o",
                 "pattern:sequence");
    expect_error(MIN_CASE "[expect]\noutput.o = pattern:ones\n", 6, "expect.output.o",
                 "not one of");
    expect_error(MIN_CASE "[expect]\noutput.o = pattern:zero\n", 6, "expect.output.o",
                 "no [output.o] section");
    expect_error(MIN_CASE "[heavy.o]\nsize = 1B\nfill = zero\n[expect]\noutput.o = pattern:zero\n",
                 9, "expect.output.o", "no [output.o] section");
    expect_error(MIN_CASE "[expect]\nheavy_unchanged = maybe\n", 6, "expect.heavy_unchanged",
                 "true or false");
    expect_error(MIN_CASE "[expect]\nmax_wall_ms = -3\n", 6, "expect.max_wall_ms", "positive");
    /* Per-task keys and engine counters. */
    expect_error(MIN_CASE "[expect]\nsignal.0 = SIGNOPE\n", 6, "expect.signal.0",
                 "not a signal name");
    expect_error(MIN_CASE "[expect]\nsignal.0 = 65\n", 6, "expect.signal.0", "not a signal name");
    expect_error(MIN_CASE "[expect]\nsignal.x = SIGSEGV\n", 6, "expect.signal.x", "signal.N");
    expect_error(MIN_CASE "[expect]\nsent.0 = maybe\n", 6, "expect.sent.0", "true or false");
    expect_error(MIN_CASE "workers = 2\n[expect]\ntext.2 = a\n", 7, "expect.text.2",
                 "task 2 does not exist");
    expect_error(MIN_CASE "[expect]\ntext_contains.0 = a\ntext_contains.00 = b\n", 7,
                 "expect.text_contains.00", "already has a text_contains (line 6)");
    expect_error(MIN_CASE "[expect]\nworkers_replaced = -1\n", 6, "expect.workers_replaced", "");
    expect_error(MIN_CASE "[expect]\npool_restarts = lots\n", 6, "expect.pool_restarts", "");
    expect_error(MIN_CASE "[run]\nregister_every = x\n", 6, "run.register_every", "");
    hc_case *c = parse_ok(MIN_CASE "tasks = 3\n[run]\nregister_every = 2\n[expect]\n"
                          "status.1 = ECRASH\nsignal.1 = SIGABRT\ntext.2 = hi\n"
                          "text_contains.1 = killed\nsent.0 = false\nsent.2 = true\n"
                          "signal.0 = 9\nworkers_started = 0\n");
    ck_assert_uint_eq(c->register_every, 2);
    ck_assert_uint_eq(c->exp_workers_started, 0);
    ck_assert_uint_eq(c->exp_workers_replaced, HC_COUNT_UNCHECKED);
    ck_assert_uint_eq(c->nstatus_one, 3);
    for (size_t i = 0; i < c->nstatus_one; i++) {
        const hc_status_exp *te = &c->status_one[i];
        if (te->task == 0) {
            ck_assert_int_eq(te->sent, 0);
            ck_assert_int_eq(te->signal, 9);
            ck_assert_int_eq(te->has_status, 0);
        } else if (te->task == 1) {
            ck_assert_int_eq(te->signal, 6);
            ck_assert_int_eq(te->status, GC_ECRASH);
            ck_assert_str_eq(te->text_contains, "killed");
            ck_assert_int_eq(te->sent, -1);
        } else {
            ck_assert_str_eq(te->text, "hi");
            ck_assert_int_eq(te->sent, 1);
        }
    }
    ck_assert_int_eq(hc__expected_status(c, 0), GC_OK);
    ck_assert_int_eq(hc__expected_status(c, 1), GC_ECRASH);
    hc_case_free(c);
}
END_TEST

START_TEST(error_bad_claims)
{
    expect_error(MIN_CASE "[claim.c]\nmetric = speed\n", 6, "claim.c.metric",
                 "unknown metric 'speed'");
    expect_error(MIN_CASE "[claim.c]\nclaimed = 0\n", 6, "claim.c.claimed", "positive");
    expect_error(MIN_CASE "[claim.c]\ntext = t\nmetric = wall_ms\nclaimed = 1\nunit = s\n", 5,
                 "claim.c.unit", "does not match metric wall_ms, measured in ms");
    expect_error(MIN_CASE "[claim.c]\ntext = t\nmetric = handoff_ms\nclaimed = 1\nunit = ms\n", 5,
                 "claim.c.metric", "only for process = touch");
    expect_error(MIN_CASE "[claim.c d]\n", 5, "claim.c d", "bad section name");
}
END_TEST

START_TEST(load_from_file)
{
    char path[] = "/tmp/hc_case_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, good_case, strlen(good_case)), (ssize_t)strlen(good_case));
    close(fd);
    hc_case *c = NULL;
    hc_error err;
    ck_assert_int_eq(hc_case_load(path, &c, &err), GC_OK);
    ck_assert_str_eq(hc_case_get_info(c)->path, path);
    hc_case_free(c);

    /* Errors from a file name the file. */
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "[case]\nid = x\nbogus\n", 20), 20);
    close(fd);
    ck_assert_int_eq(hc_case_load(path, &c, &err), GC_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err.path, path);
    ck_assert_int_eq(err.line, 3);
    unlink(path);

    ck_assert_int_eq(hc_case_load("/nonexistent/x.case", &c, &err), GC_ESYS);
    ck_assert_str_eq(err.path, "/nonexistent/x.case");
    ck_assert_ptr_nonnull(strstr(err.message, "cannot open"));
    ck_assert_int_eq(hc_case_load("/tmp", &c, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "not a regular file"));
}
END_TEST

START_TEST(requires_evaluated)
{
    hc_case *c = parse_ok(MIN_CASE "requires = memfd, seals, cores>=1\n");
    char why[256];
    ck_assert_int_eq(hc_case_requires_met(c, why, sizeof why), 1);
    ck_assert_str_eq(why, "");
    hc_case_free(c);
    c = parse_ok(MIN_CASE "requires = cores>=4096\n");
    ck_assert_int_eq(hc_case_requires_met(c, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "requires cores>=4096"));
    hc_case_free(c);
    c = parse_ok(MIN_CASE "requires = mem>=1024GiB\n");
    ck_assert_int_eq(hc_case_requires_met(c, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "MiB available"));
    hc_case_free(c);
}
END_TEST

START_TEST(every_shipped_case_parses)
{
    /* The cases under cases/ are data the whole project depends on: each must
     * load. HC_CASES_DIR is set by the Makefile to the source tree. */
    const char *dir = getenv("HC_CASES_DIR");
    if (!dir)
        dir = "cases";
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.case' -type f | sort", dir);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char path[4096];
    int n = 0;
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\n")] = '\0';
        hc_case *c = NULL;
        hc_error err;
        int rc = hc_case_load(path, &c, &err);
        ck_assert_msg(rc == GC_OK, "%s:%d: %s: %s", err.path, err.line, err.key, err.message);
        hc_case_free(c);
        n++;
    }
    pclose(f);
    ck_assert_msg(n >= 5, "only %d case files found under %s", n, dir);
}
END_TEST

START_TEST(readme_example_parses)
{
    /* The full example in cases/README.md is the format's documentation: it
     * must stay a valid case. */
    const char *dir = getenv("HC_CASES_DIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/README.md", dir ? dir : "cases");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char text[65536];
    size_t n = 0;
    int in = 0, blocks = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (!in && strncmp(line, "```ini", 6) == 0) {
            in = 1;
            blocks++;
            continue;
        }
        if (in && strncmp(line, "```", 3) == 0)
            break;
        if (in && n + strlen(line) < sizeof text) {
            memcpy(text + n, line, strlen(line));
            n += strlen(line);
        }
    }
    fclose(f);
    ck_assert_int_eq(blocks, 1);
    text[n] = '\0';
    hc_case *c = parse_ok(text);
    ck_assert_str_eq(hc_case_get_info(c)->id, "INC-014.heavy-visible");
    ck_assert_int_eq(c->nclaims, 1);
    hc_case_free(c);
}
END_TEST

START_TEST(run_section_and_its_errors)
{
    hc_case *c = parse_ok(MIN_CASE "[run]\nrounds = 40\nnew_generation_every = 5\n"
                                   "alternate_mode = true\nlimit_nofile = 0\nlimit_as = 64MiB\n"
                                   "recover = true\n[expect]\nsetup = ESYS\nrun = ok\n"
                                   "rss_growth_kb_max = 512\n");
    ck_assert_uint_eq(c->rounds, 40);
    ck_assert_uint_eq(c->new_generation_every, 5);
    ck_assert_int_eq(c->alternate_mode, 1);
    ck_assert_int_eq(c->limit_nofile_set, 1);
    ck_assert_uint_eq(c->limit_nofile, 0);
    ck_assert_uint_eq(c->limit_as, 64ull << 20);
    ck_assert_int_eq(c->recover, 1);
    ck_assert_int_eq(c->setup_status, GC_ESYS);
    ck_assert_uint_eq(c->rss_growth_kb_max, 512);
    hc_case_free(c);
    c = parse_ok(MIN_CASE);
    ck_assert_uint_eq(c->rounds, 1);
    ck_assert_uint_eq(c->callers, 1);
    ck_assert_int_eq(c->limit_nofile_set, 0);
    hc_case_free(c);
    expect_error(MIN_CASE "[run]\nrepeat = 3\n", 6, "run.repeat", "unknown key in [run]");
    expect_error(MIN_CASE "[run]\nrounds = 0\n", 6, "run.rounds", "1..1000000");
    expect_error(MIN_CASE "[run]\ncallers = 65\n", 6, "run.callers", "1..64");
    expect_error(MIN_CASE "[run]\nlimit_as = 64\n", 6, "run.limit_as", "unit");
    expect_error(MIN_CASE "[run]\ncallers = 2\nnew_generation_every = 3\n", 6, "run.callers",
                 "must not change");
    expect_error(MIN_CASE "[expect]\nsetup = ESYS\n", 6, "expect.setup", "sets neither");
    expect_error(MIN_CASE "[run]\n[run]\n", 6, "run", "appears twice");
    c = parse_ok(MIN_CASE "[run]\nrule = k:-5..0x10\n");
    ck_assert_int_eq(c->has_rule, 1);
    ck_assert_str_eq(c->rule_key, "k");
    ck_assert_int_eq(c->rule_min, -5);
    ck_assert_int_eq(c->rule_max, 16);
    hc_case_free(c);
    expect_error(MIN_CASE "[run]\nrule = k:1\n", 6, "run.rule", "is not KEY:MIN..MAX");
    expect_error(MIN_CASE "[run]\nrule = :1..2\n", 6, "run.rule", "is not KEY:MIN..MAX");
    expect_error(MIN_CASE "[run]\nrule = .k:1..2\n", 6, "run.rule", "rule key");
    expect_error(MIN_CASE "[run]\nrule = k:2..1\n", 6, "run.rule", "MIN <= MAX");
    expect_error(MIN_CASE "[run]\nrule = k:1..+2\n", 6, "run.rule", "MIN <= MAX");
    /* [expect] history: over list keys, one caller */
    c = parse_ok(MIN_CASE "[contract]\ndomain_writes = l\n[expect]\nhistory = consistent\n");
    ck_assert_int_eq(c->history_check, 1);
    hc_case_free(c);
    c = parse_ok(MIN_CASE);
    ck_assert_int_eq(c->history_check, 0);
    hc_case_free(c);
    expect_error(MIN_CASE "[contract]\ndomain_writes = l\n[expect]\nhistory = yes\n", 8,
                 "expect.history", "unchecked, consistent");
    expect_error(MIN_CASE "[expect]\nhistory = consistent\n", 6, "expect.history",
                 "[contract] domain_writes names none");
    expect_error(MIN_CASE "[contract]\ndomain_writes = l\n[expect]\nhistory = consistent\n"
                 "[run]\ncallers = 2\n", 8, "expect.history", "run.callers 2 interleaves runs");
    c = parse_ok(MIN_CASE "[run]\nwarm_default = true\n[expect]\nundeclared_reads = 3\n");
    ck_assert_int_eq(c->warm_default, 1);
    ck_assert_int_eq(c->undeclared_exp, 3);
    hc_case_free(c);
    c = parse_ok(MIN_CASE);
    ck_assert_int_eq(c->warm_default, 0);
    ck_assert_int_eq(c->undeclared_exp, -1);
    hc_case_free(c);
    expect_error(MIN_CASE "[expect]\nundeclared_reads = -1\n", 6, "expect.undeclared_reads",
                 "not an integer");
}
END_TEST

Suite *suite_case_parse(void)
{
    Suite *s = suite_create("case_parse");
    TCase *tc = tcase_create("good");
    tcase_add_test(tc, good_case_fields);
    tcase_add_test(tc, contract_section_is_recorded);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, crlf_bom_and_no_final_newline);
    tcase_add_test(tc, long_lines_and_63_char_names);
    tcase_add_test(tc, load_from_file);
    tcase_add_test(tc, requires_evaluated);
    tcase_add_test(tc, every_shipped_case_parses);
    tcase_add_test(tc, readme_example_parses);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, error_nul_byte);
    tcase_add_test(tc, error_line_too_long);
    tcase_add_test(tc, error_syntax);
    tcase_add_test(tc, error_unknown_section_and_key);
    tcase_add_test(tc, error_duplicates);
    tcase_add_test(tc, run_section_and_its_errors);
    tcase_add_test(tc, error_missing_required);
    tcase_add_test(tc, error_undocumented_forms);
    tcase_add_test(tc, error_bad_case_values);
    tcase_add_test(tc, error_bad_domain_values);
    tcase_add_test(tc, error_bad_entries);
    tcase_add_test(tc, error_bad_expectations);
    tcase_add_test(tc, error_bad_claims);
    suite_add_tcase(s, tc);
    return s;
}
