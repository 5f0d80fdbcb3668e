/* The history checker (harness/case/histcheck.c) on hand-made histories: a
 * clean one, then the same history with one anomaly put in. Each test
 * asserts exactly which kinds are reported, how many of each, and the text
 * of the first (task, attempt, key and versions), so a checker that misses
 * one or names the wrong one fails here.
 *
 * The clean run: list key l0, empty at version 0. Task 0 appends and is
 * installed at version 1; task 1's first attempt (base 0) conflicts, its
 * second (base 1) is installed at version 2; task 2 reads at base 0. The
 * subscriber saw one event per install, at its version. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "histcheck.h"
#include "suites.h"

#define MAXA 8

typedef struct hist {
    gc_attempt a[MAXA];
    const gc_attempt *p[MAXA];
    gc_hist_read reads[MAXA][1];
    const char *writes[MAXA][1];
    gc_value values[MAXA][1];
    gc_hist_delivery dl[MAXA][1];
    gc_result res[3];
    hc_hist_key key;
    hc_hist_seen seen[MAXA];
    hc_hist_input in;
} hist;

static gc_value bytes(const char *s)
{
    return (gc_value){.type = GC_VAL_BYTES, .ptr = s, .len = strlen(s)};
}

/* An attempt that read l0 at `read_v` and wrote `value` (NULL: a reader),
 * with one recorded event when it was installed. */
static void add(hist *h, uint32_t task, uint32_t attempt, uint64_t base, int outcome,
                uint64_t version, uint64_t read_v, const char *value)
{
    size_t i = h->in.nattempts++;
    gc_attempt *a = &h->a[i];
    h->reads[i][0] = (gc_hist_read){"l0", read_v};
    h->writes[i][0] = "l0";
    if (value)
        h->values[i][0] = bytes(value);
    h->dl[i][0] = (gc_hist_delivery){GC_DELIVERY_EVENT, "changed", "", version, 1};
    *a = (gc_attempt){.task = task, .attempt = attempt, .base = base, .outcome = outcome,
                      .version = version, .n_reads = 1, .reads = h->reads[i],
                      .n_writes = value ? 1 : 0, .writes = h->writes[i],
                      .values = h->values[i],
                      .n_deliveries = outcome == GC_OK && version ? 1 : 0,
                      .deliveries = h->dl[i]};
    h->p[i] = a;
}

static void see(hist *h, uint32_t task, uint32_t attempt, uint32_t made_by, uint64_t version)
{
    h->seen[h->in.nseen++] = (hc_hist_seen){GC_DELIVERY_EVENT, task, attempt, made_by, version};
}

static void clean(hist *h)
{
    memset(h, 0, sizeof *h);
    h->in.attempts = h->p;
    h->in.results = h->res;
    h->in.ntasks = 3;
    h->in.keys = &h->key;
    h->in.nkeys = 1;
    h->in.seen = h->seen;
    h->key = (hc_hist_key){.name = "l0", .before = bytes(""), .after = bytes("0.1;1.2;"),
                           .before_version = 0, .after_version = 2};
    add(h, 0, 1, 0, GC_OK, 1, 0, "0.1;");
    add(h, 1, 1, 0, GC_ECONFLICT, 0, 0, "1.1;");
    add(h, 2, 1, 0, GC_OK, 0, 0, NULL);
    add(h, 1, 2, 1, GC_OK, 2, 1, "0.1;1.2;");
    see(h, 0, 1, 1, 1);
    see(h, 1, 2, 2, 2);
    h->res[0] = (gc_result){.task = 0, .status = GC_OK, .attempts = 1, .committed_version = 1};
    h->res[1] = (gc_result){.task = 1, .status = GC_OK, .attempts = 2, .committed_version = 2};
    h->res[2] = (gc_result){.task = 2, .status = GC_OK, .attempts = 1,
                            .value = (int64_t)gc_checksum("", 0, GC_CHECKSUM_SEED)};
    h->in.version_before = 0;
    h->in.version_after = 2;
}

/* Exactly these kinds, these many times each (a list ending with -1). */
static void expect(const hist *h, const int *kinds_counts, const char *first_kind,
                   const char *first_text)
{
    hc_hist_report rep;
    size_t n = hc_hist_check(&h->in, &rep);
    char sum[2048];
    hc_hist_summary(&rep, sum, sizeof sum);
    size_t want_total = 0;
    size_t want[HC_HIST_NKINDS] = {0};
    for (const int *p = kinds_counts; *p >= 0; p += 2) {
        want[p[0]] = (size_t)p[1];
        want_total += (size_t)p[1];
    }
    ck_assert_msg(n == want_total && rep.total == n, "%zu anomalies, expected %zu: %s", n,
                  want_total, sum);
    for (int k = 0; k < HC_HIST_NKINDS; k++)
        ck_assert_msg(rep.count[k] == want[k], "%s: %zu, expected %zu (%s)",
                      hc_hist_kind_name(k), rep.count[k], want[k], sum);
    if (first_kind) {
        int k = 0;
        while (k < HC_HIST_NKINDS && strcmp(hc_hist_kind_name(k), first_kind) != 0)
            k++;
        ck_assert_int_lt(k, HC_HIST_NKINDS);
        ck_assert_str_eq(rep.first[k].text, first_text);
    }
}

static const int NONE[] = {-1};

START_TEST(a_clean_history_is_consistent)
{
    hist h;
    clean(&h);
    expect(&h, NONE, NULL, NULL);
    hc_hist_report rep;
    hc_hist_check(&h.in, &rep);
    ck_assert_uint_eq(rep.installed, 2);
    ck_assert_uint_eq(rep.reads_checked, 4);
    ck_assert_uint_eq(rep.deliveries_checked, 2);
    char sum[256];
    hc_hist_summary(&rep, sum, sizeof sum);
    ck_assert_str_eq(sum, "0 anomalies ()");
}
END_TEST

START_TEST(an_acknowledged_append_missing_from_the_final_state)
{
    hist h;
    clean(&h);
    h.key.after = bytes("0.1;");
    const int k[] = {HC_HIST_MISSING, 1, -1};
    expect(&h, k, "missing-append",
           "task 1 attempt 2's append 1.2; to l0, installed at version 2 (base 1), is not in "
           "the final state");
}
END_TEST

START_TEST(an_append_duplicated_in_the_final_state)
{
    hist h;
    clean(&h);
    h.key.after = bytes("0.1;1.2;0.1;");
    const int k[] = {HC_HIST_DUPLICATE, 1, -1};
    expect(&h, k, "duplicate-append",
           "task 0's element is in the final state twice: 0.1; in l0 and 0.1; in l0");
}
END_TEST

/* INC-028's shape: task 1's first attempt installed from base 0 over task 0. */
START_TEST(two_installs_from_one_base_are_a_lost_update)
{
    hist h;
    clean(&h);
    h.in.nattempts = 0;
    h.in.nseen = 0;
    add(&h, 0, 1, 0, GC_OK, 1, 0, "0.1;");
    add(&h, 1, 1, 0, GC_OK, 2, 0, "1.1;");
    add(&h, 2, 1, 0, GC_OK, 0, 0, NULL);
    see(&h, 0, 1, 1, 1);
    see(&h, 1, 1, 1, 2);
    h.res[1].attempts = 1;
    h.key.after = bytes("1.1;");
    const int k[] = {HC_HIST_LOST_UPDATE, 1, HC_HIST_MISSING, 1, -1};
    expect(&h, k, "lost-update",
           "task 1 attempt 1 installed l0 at version 2 from base 0, over task 0 attempt 1's "
           "install of l0 at version 1 (base 0) that its base did not hold");
    expect(&h, k, "missing-append",
           "task 0 attempt 1's append 0.1; to l0, installed at version 1 (base 0), is not in "
           "the final state");
}
END_TEST

START_TEST(a_read_older_than_its_base)
{
    hist h;
    clean(&h);
    h.a[2].base = 1;      /* the reader was built after version 1 but saw version 0 */
    const int k[] = {HC_HIST_STALE_READ, 1, -1};
    expect(&h, k, "stale-read",
           "task 2 attempt 1 (base 1) read l0 at version 0, older than version 1, the latest "
           "install of l0 at its base");
}
END_TEST

START_TEST(a_read_that_returned_other_bytes)
{
    hist h;
    clean(&h);
    h.res[2].value = (int64_t)gc_checksum("0.1;", 4, GC_CHECKSUM_SEED);
    const int k[] = {HC_HIST_READ_VALUE, 1, -1};
    char text[320];
    snprintf(text, sizeof text,
             "task 2 attempt 1 read the list keys and returned checksum %016llx, but the values "
             "at the versions it read give %016llx",
             (unsigned long long)gc_checksum("0.1;", 4, GC_CHECKSUM_SEED),
             (unsigned long long)gc_checksum("", 0, GC_CHECKSUM_SEED));
    expect(&h, k, "read-value", text);
}
END_TEST

/* INC-023's and INC-016's shapes: a delivery for the conflicted attempt, a
 * delivery before install, a delivery twice. */
START_TEST(a_delivery_for_an_attempt_not_installed)
{
    hist h;
    clean(&h);
    see(&h, 1, 2, 1, 2);          /* delivered with attempt 2, made by attempt 1 */
    const int k[] = {HC_HIST_PHANTOM_DELIVERY, 1, -1};
    expect(&h, k, "phantom-delivery",
           "the event of task 1 attempt 1 was delivered (for attempt 2, at version 2), but "
           "attempt 1 was not installed: its outcome is ECONFLICT");
}
END_TEST

START_TEST(a_delivery_before_its_install)
{
    hist h;
    clean(&h);
    h.seen[0].version = 0;
    const int k[] = {HC_HIST_PHANTOM_DELIVERY, 1, -1};
    expect(&h, k, "phantom-delivery",
           "the event of task 0 attempt 1 was delivered at version 0, but that attempt "
           "installed version 1");
}
END_TEST

START_TEST(a_delivery_twice)
{
    hist h;
    clean(&h);
    see(&h, 0, 1, 1, 1);
    const int k[] = {HC_HIST_PHANTOM_DELIVERY, 1, -1};
    expect(&h, k, "phantom-delivery",
           "the event of task 0 attempt 1 was delivered twice (at versions 1 and 1)");
}
END_TEST

START_TEST(a_recorded_delivery_nobody_saw)
{
    hist h;
    clean(&h);
    h.in.nseen = 1;
    const int k[] = {HC_HIST_MISSING_DELIVERY, 1, -1};
    expect(&h, k, "missing-delivery",
           "task 1 attempt 2 installed version 2 and the engine recorded its event 'changed' "
           "as delivered, but nobody saw it");
}
END_TEST

START_TEST(versions_that_do_not_strictly_increase)
{
    hist h;
    clean(&h);
    h.in.version_after = 3;
    const int k[] = {HC_HIST_VERSION_ORDER, 1, -1};
    expect(&h, k, "version-order",
           "the state went from version 0 to 3, but the history installed 2 write sets");
    clean(&h);
    h.key.after_version = 1;
    expect(&h, k, "version-order",
           "l0 was last modified at version 1, but its last install in the history is "
           "version 2");
    /* commit order: version 2 recorded before version 1 */
    clean(&h);
    const gc_attempt *first = h.p[0];
    h.p[0] = h.p[3];
    h.p[3] = first;
    const int k2[] = {HC_HIST_VERSION_ORDER, 1, -1};
    expect(&h, k2, "version-order",
           "task 0 attempt 1 installed version 1 after an install of version 2: versions must "
           "strictly increase in commit order");
    /* two installs as one version */
    clean(&h);
    h.a[3].version = 1;
    h.seen[1].version = 1;
    /* and so l0 (version 2) and task 1's acknowledgement (version 2) disagree with it */
    const int k3[] = {HC_HIST_VERSION_ORDER, 2, HC_HIST_MISSING, 1, -1};
    expect(&h, k3, "version-order",
           "task 1 attempt 2 installed version 1 after an install of version 1: versions must "
           "strictly increase in commit order");
}
END_TEST

START_TEST(an_element_no_installed_attempt_wrote)
{
    hist h;
    clean(&h);
    h.key.after = bytes("0.1;1.1;");
    const int k[] = {HC_HIST_PHANTOM_APPEND, 1, HC_HIST_MISSING, 1, -1};
    expect(&h, k, "phantom-append",
           "l0 holds 1.1; but attempt 1 of task 1 was not installed");
    h.key.after = bytes("0.1;1.2;junk");
    const int k2[] = {HC_HIST_PHANTOM_APPEND, 1, -1};
    expect(&h, k2, "phantom-append",
           "l0 holds bytes that are no element \"<task>.<attempt>;\" at offset 8");
}
END_TEST

/* INC-026's shape: an install that writes back what it read. */
START_TEST(a_write_back_without_its_element)
{
    hist h;
    clean(&h);
    h.values[3][0] = bytes("0.1;");
    h.key.after = bytes("0.1;");
    const int k[] = {HC_HIST_WRONG_APPEND, 1, -1};
    expect(&h, k, "wrong-append",
           "task 1 attempt 2 wrote l0 as the 4 bytes it read at version 1 plus 0 bytes, not "
           "plus its own element '1.2;' (a write-back of what it read)");
}
END_TEST

START_TEST(a_write_that_does_not_extend_what_it_read)
{
    hist h;
    clean(&h);
    h.values[3][0] = bytes("1.2;");
    h.key.after = bytes("1.2;");
    /* and so task 0's append, which it dropped, is missing */
    const int k[] = {HC_HIST_READ_VALUE, 1, HC_HIST_MISSING, 1, -1};
    expect(&h, k, "read-value",
           "task 1 attempt 2 read l0 at version 1 (4 bytes) but wrote 4 bytes that do not "
           "extend that value");
}
END_TEST

/* A key's value from before the round must stay its prefix. */
START_TEST(what_a_key_held_before_the_round_is_kept)
{
    hist h;
    clean(&h);
    h.key.before = bytes("9.1;");
    h.key.before_version = 0;
    h.values[0][0] = bytes("9.1;0.1;");
    h.values[1][0] = bytes("9.1;1.1;");
    h.values[3][0] = bytes("9.1;0.1;1.2;");
    h.key.after = bytes("9.1;0.1;1.2;");
    h.res[2].value = (int64_t)gc_checksum("9.1;", 4, GC_CHECKSUM_SEED);
    expect(&h, NONE, NULL, NULL);
    h.key.after = bytes("0.1;1.2;");
    const int k[] = {HC_HIST_MISSING, 1, -1};
    expect(&h, k, "missing-append",
           "l0 lost what it held before the run: its 4 bytes are no longer a prefix of its 8 "
           "bytes after it");
}
END_TEST

/* The first install of a key must have the version the run found it at in its base. */
START_TEST(an_install_older_than_the_run_start)
{
    hist h;
    clean(&h);
    h.key.before_version = 3;       /* the key was last modified at 3 ... */
    h.in.version_before = 3;
    h.a[0].version = 4;
    h.a[3].version = 5;
    h.a[3].base = 4;
    h.a[0].base = h.a[1].base = h.a[2].base = 3;
    for (int i = 0; i < 4; i++)
        h.reads[i][0].version = i == 3 ? 4 : 3;
    h.seen[0].version = 4;
    h.seen[1].version = 5;
    h.res[0].committed_version = 4;
    h.res[1].committed_version = 5;
    h.key.after_version = 5;
    h.in.version_after = 5;
    expect(&h, NONE, NULL, NULL);
    h.a[0].base = 2;                /* ... but task 0 installed from base 2 */
    const int k[] = {HC_HIST_LOST_UPDATE, 1, HC_HIST_STALE_READ, 1, -1};
    expect(&h, k, "lost-update",
           "task 0 attempt 1 installed l0 at version 4 from base 2, older than the version 3 "
           "the run found it at");
    expect(&h, k, "stale-read",
           "task 0 attempt 1 read l0 at version 3, newer than its base 2 (a read from the "
           "future)");
}
END_TEST

START_TEST(a_list_that_is_no_list)
{
    hist h;
    clean(&h);
    h.values[3][0] = (gc_value){.type = GC_VAL_INT, .i = 7};
    const int k[] = {HC_HIST_WRONG_APPEND, 1, -1};
    expect(&h, k, "wrong-append", "task 1 attempt 2 wrote l0 as int, not a list");
    clean(&h);
    h.key.after = (gc_value){.type = GC_VAL_INT, .i = 7};
    const int k2[] = {HC_HIST_WRONG_APPEND, 1, HC_HIST_MISSING, 2, -1};
    expect(&h, k2, "wrong-append", "l0 is not a list (bytes or string) before or after the run");
}
END_TEST

/* INC-003's shape: a commit that deleted the keys it did not write. */
START_TEST(a_list_key_gone_from_the_state)
{
    hist h;
    clean(&h);
    h.key.after = (gc_value){0};
    h.key.after_version = 0;
    const int k[] = {HC_HIST_MISSING, 3, HC_HIST_VERSION_ORDER, 1, -1};
    expect(&h, k, "missing-append",
           "l0 is gone from the state after the run (it held 0 bytes at version 0 before)");
}
END_TEST

START_TEST(an_incomplete_history_is_not_trusted)
{
    hist h;
    clean(&h);
    h.in.incomplete = 2;
    h.key.after = bytes("");      /* would be missing appends: not judged */
    const int k[] = {HC_HIST_INCOMPLETE, 1, -1};
    expect(&h, k, "incomplete-history",
           "the engine could not record 2 attempts whole (out of memory): the history cannot "
           "be trusted");
}
END_TEST

START_TEST(the_summary_names_every_kind_and_its_first)
{
    hist h;
    clean(&h);
    h.key.after = bytes("0.1;1.2;0.1;");
    h.in.version_after = 3;
    hc_hist_report rep;
    ck_assert_uint_eq(hc_hist_check(&h.in, &rep), 2);
    char sum[1024];
    hc_hist_summary(&rep, sum, sizeof sum);
    ck_assert_str_eq(sum, "2 anomalies (duplicate-append 1, version-order 1); duplicate-append: "
                          "task 0's element is in the final state twice: 0.1; in l0 and 0.1; "
                          "in l0; version-order: the state went from version 0 to 3, but the "
                          "history installed 2 write sets");
    char small[16];
    hc_hist_summary(&rep, small, sizeof small);
    ck_assert_str_eq(small, "2 anomalies (du");
    ck_assert_str_eq(hc_hist_kind_name(HC_HIST_NKINDS), "?");
}
END_TEST

Suite *suite_histcheck(void)
{
    Suite *s = suite_create("histcheck");
    TCase *t = tcase_create("anomalies");
    tcase_add_test(t, a_clean_history_is_consistent);
    tcase_add_test(t, an_acknowledged_append_missing_from_the_final_state);
    tcase_add_test(t, an_append_duplicated_in_the_final_state);
    tcase_add_test(t, two_installs_from_one_base_are_a_lost_update);
    tcase_add_test(t, a_read_older_than_its_base);
    tcase_add_test(t, a_read_that_returned_other_bytes);
    tcase_add_test(t, a_delivery_for_an_attempt_not_installed);
    tcase_add_test(t, a_delivery_before_its_install);
    tcase_add_test(t, a_delivery_twice);
    tcase_add_test(t, a_recorded_delivery_nobody_saw);
    tcase_add_test(t, versions_that_do_not_strictly_increase);
    tcase_add_test(t, an_element_no_installed_attempt_wrote);
    tcase_add_test(t, a_write_back_without_its_element);
    tcase_add_test(t, a_write_that_does_not_extend_what_it_read);
    tcase_add_test(t, what_a_key_held_before_the_round_is_kept);
    tcase_add_test(t, an_install_older_than_the_run_start);
    tcase_add_test(t, a_list_that_is_no_list);
    tcase_add_test(t, a_list_key_gone_from_the_state);
    tcase_add_test(t, an_incomplete_history_is_not_trusted);
    tcase_add_test(t, the_summary_names_every_kind_and_its_first);
    suite_add_tcase(s, t);
    return s;
}
