/* Selection: shard stability (fixed hash values, a partition of all ids,
 * independence from the order and the other ids), --filter globs and exact
 * ids with brackets, --tag, seeds, fallback ids, and discovery order. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "plan.h"

START_TEST(hash_is_fnv1a)
{
    /* Published FNV-1a 64 test vectors: shards must never move between
     * builds or machines, so the function is pinned. */
    ck_assert_uint_eq(hr_hash(""), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(hr_hash("a"), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(hr_hash("foobar"), 0x85944171f73967e8ull);
}
END_TEST

START_TEST(shards_partition_ids)
{
    const int N = 4;
    int per[5] = {0};
    for (int i = 0; i < 400; i++) {
        char id[64];
        snprintf(id, sizeof id, "INC-%03d.case-%d[%s]", i / 7, i, i % 2 ? "thread" : "process");
        int s = hr_shard_of(id, N);
        ck_assert_int_ge(s, 1);
        ck_assert_int_le(s, N);
        ck_assert_int_eq(hr_shard_of(id, N), s);   /* stable */
        per[s]++;
    }
    for (int s = 1; s <= N; s++)   /* every shard gets a fair share */
        ck_assert_int_gt(per[s], 60);
    ck_assert_int_eq(per[1] + per[2] + per[3] + per[4], 400);
    ck_assert_int_eq(hr_shard_of("anything", 1), 1);
    /* Pinned values: a change here re-splits every CI matrix. */
    ck_assert_int_eq(hr_shard_of("a", 4), (int)(0xaf63dc4c8601ec8cull % 4) + 1);
}
END_TEST

START_TEST(filter_globs_and_exact_ids)
{
    const char *exact[] = {"INC-014/x[process]"};
    ck_assert(hr_filter_match(exact, 1, "INC-014/x[process]", "INC-014/x"));
    /* As a glob, [process] would be a bracket expression matching one char. */
    ck_assert(!hr_filter_match(exact, 1, "INC-014/x[thread]", "INC-014/x"));
    ck_assert(!hr_filter_match(exact, 1, "INC-014/xp", "INC-014/xp"));
    const char *glob[] = {"INC-014.*"};
    ck_assert(hr_filter_match(glob, 1, "INC-014.a[thread]", "INC-014.a"));
    ck_assert(!hr_filter_match(glob, 1, "engine.echo[thread]", "engine.echo"));
    const char *case_id[] = {"engine.echo"};
    ck_assert(hr_filter_match(case_id, 1, "engine.echo[thread]", "engine.echo"));
    ck_assert(!hr_filter_match(case_id, 1, "engine.echo-bytes[thread]", "engine.echo-bytes"));
    const char *glob_mode[] = {"INC-014.*[process]"};
    ck_assert(hr_filter_match(glob_mode, 1, "INC-014.a[process]", "INC-014.a"));
    ck_assert(!hr_filter_match(glob_mode, 1, "INC-014.a[thread]", "INC-014.a"));
    ck_assert(!hr_filter_match(glob_mode, 1, "engine.a[process]", "engine.a"));
    const char *modes[] = {"*process]"};
    ck_assert(hr_filter_match(modes, 1, "a[process]", "a"));
    ck_assert(!hr_filter_match(modes, 1, "a[thread]", "a"));
    const char *any[] = {"nope", "*echo*"};
    ck_assert(hr_filter_match(any, 2, "engine.echo[thread]", "engine.echo"));
    ck_assert(hr_filter_match(NULL, 0, "x", "x"));
}
END_TEST

START_TEST(tags_all_must_match)
{
    hc_case_info info;
    memset(&info, 0, sizeof info);
    strcpy(info.tags[0], "smoke");
    strcpy(info.tags[1], "heavy");
    info.ntags = 2;
    const char *one[] = {"heavy"};
    const char *two[] = {"heavy", "smoke"};
    const char *mode[] = {"smoke", "process"};
    const char *miss[] = {"heavy", "slow"};
    ck_assert(hr_tags_match(NULL, 0, &info, "thread"));
    ck_assert(hr_tags_match(one, 1, &info, "thread"));
    ck_assert(hr_tags_match(two, 2, &info, "thread"));
    ck_assert(hr_tags_match(mode, 2, &info, "process"));
    ck_assert(!hr_tags_match(mode, 2, &info, "thread"));
    ck_assert(!hr_tags_match(miss, 2, &info, "thread"));
}
END_TEST

START_TEST(seeds_and_ids)
{
    uint64_t a = hr_case_seed(123, "x[thread]");
    ck_assert_uint_eq(a, hr_case_seed(123, "x[thread]"));
    ck_assert_uint_ne(a, hr_case_seed(124, "x[thread]"));
    ck_assert_uint_ne(a, hr_case_seed(123, "x[process]"));
    ck_assert_uint_le(a, (uint64_t)INT64_MAX);
    char id[128];
    hr_fallback_id("cases/INC-014/bad.case", id, sizeof id);
    ck_assert_str_eq(id, "INC-014/bad");
    hr_fallback_id("./x/y.case", id, sizeof id);
    ck_assert_str_eq(id, "x/y");
    hr_fallback_id("mycases/z.case", id, sizeof id);
    ck_assert_str_eq(id, "mycases/z");
}
END_TEST

START_TEST(replay_command_quotes)
{
    hr_opts o;
    memset(&o, 0, sizeof o);
    o.argv0 = "build/gapcheck";
    o.timeout_mult = 1.0;
    char cmd[512];
    hr_replay_command(&o, 123, "cases/INC-014/x.case", "INC-014/x[process]", cmd, sizeof cmd);
    ck_assert_str_eq(cmd, "build/gapcheck run cases/INC-014/x.case --filter "
                          "'INC-014/x[process]' --seed 123");
    o.timeout_mult = 3;
    hr_replay_command(&o, 5, "a b.case", NULL, cmd, sizeof cmd);
    ck_assert_str_eq(cmd, "build/gapcheck run 'a b.case' --seed 5 --timeout 3");
}
END_TEST

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

START_TEST(discovery_sorted_recursive)
{
    char root[] = "/tmp/hr-discover-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[256];
    const char *files[] = {"b.case", "a.case", "sub/c.case", "sub/.hidden.case", "notes.txt",
                           ".dot/d.case", "sub/deeper/A.case"};
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/deeper", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.dot", root);
    mkdir(p, 0755);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        touch(p);
    }
    hr_files f;
    char err[256];
    char named[256];
    snprintf(named, sizeof named, "%s/notes.txt", root);
    const char *roots[] = {root, named, root};   /* duplicates collapse */
    ck_assert_int_eq(hr_discover(roots, 3, &f, err, sizeof err), 0);
    ck_assert_uint_eq(f.n, 5);
    const char *want[] = {"a.case", "b.case", "notes.txt", "sub/c.case", "sub/deeper/A.case"};
    for (size_t i = 0; i < f.n; i++) {
        snprintf(p, sizeof p, "%s/%s", root, want[i]);
        ck_assert_str_eq(f.paths[i], p);
    }
    hr_files_free(&f);
    const char *missing[] = {"/nonexistent/gapcheck"};
    ck_assert_int_eq(hr_discover(missing, 1, &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/gapcheck"));
    ck_assert_uint_eq(f.n, 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *suite_runner_select(void);
Suite *suite_runner_select(void)
{
    Suite *s = suite_create("runner_select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, hash_is_fnv1a);
    tcase_add_test(tc, shards_partition_ids);
    tcase_add_test(tc, filter_globs_and_exact_ids);
    tcase_add_test(tc, tags_all_must_match);
    tcase_add_test(tc, seeds_and_ids);
    tcase_add_test(tc, replay_command_quotes);
    tcase_add_test(tc, discovery_sorted_recursive);
    suite_add_tcase(s, tc);
    return s;
}
