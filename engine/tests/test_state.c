/* The state: typed domain values (copied, replaced in place, insertion
 * order, limits, all-or-nothing sets) and ownership of the heavy zone. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/gapcheck.h"
#include "suites.h"
#include "testutil.h"

static gc_zone *small_zone(int publish)
{
    gc_zone *z = NULL;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "h", 10, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, NULL), GC_OK);
    if (publish)
        ck_assert_int_eq(gc_zone_publish(z, NULL), GC_OK);
    return z;
}

START_TEST(state_values_typed_and_copied)
{
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    char src[] = "hello";
    const uint8_t raw[] = {0, 1, 0, 255};
    ck_assert_int_eq(gc_state_set_int(st, "i", -42, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_double(st, "d", 2.5, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "s", src, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "b", raw, sizeof raw, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "empty_s", "", &err), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "empty_b", NULL, 0, &err), GC_OK);
    src[0] = 'J';   /* the state holds its own copy */
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(st, "i", &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_INT);
    ck_assert_int_eq(v->i, -42);
    ck_assert_int_eq(gc_state_get(st, "d", &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_DOUBLE);
    ck_assert_double_eq(v->d, 2.5);
    ck_assert_int_eq(gc_state_get(st, "s", &v), GC_OK);
    ck_assert_str_eq(v->ptr, "hello");
    ck_assert_uint_eq(v->len, 5);
    ck_assert_int_eq(gc_state_get(st, "b", &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_BYTES);
    ck_assert_uint_eq(v->len, 4);
    ck_assert_mem_eq(v->ptr, raw, 4);
    ck_assert_int_eq(gc_state_get(st, "empty_s", &v), GC_OK);
    ck_assert_str_eq(v->ptr, "");
    ck_assert_int_eq(gc_state_get(st, "empty_b", &v), GC_OK);
    ck_assert_uint_eq(v->len, 0);
    ck_assert_ptr_nonnull(v->ptr);
    ck_assert_int_eq(gc_state_get(st, "missing", &v), GC_ENOTFOUND);
    gc_state_free(st);
}
END_TEST

START_TEST(state_replace_keeps_order)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    static const char *names[] = {"z", "a", "m", "b"};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(gc_state_set_int(st, names[i], i, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "a", "now a string", NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "a", "again", NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_double(st, "m", 1.0, NULL), GC_OK);
    ck_assert_uint_eq(gc_state_domain_count(st), 4);
    for (size_t i = 0; i < 4; i++) {
        const char *n;
        const gc_value *v;
        ck_assert_int_eq(gc_state_domain_at(st, i, &n, &v), GC_OK);
        ck_assert_str_eq(n, names[i]);
    }
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(st, "a", &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_STR);
    ck_assert_str_eq(v->ptr, "again");
    const char *n;
    ck_assert_int_eq(gc_state_domain_at(st, 4, &n, &v), GC_ENOTFOUND);
    gc_state_free(st);
}
END_TEST

/* gc_state_domain_at needs a state and both places for its answer: a NULL
 * one is refused EINVAL, never followed; past the last key is ENOTFOUND. */
START_TEST(state_domain_at_refuses_null_arguments)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "a", 1, NULL), GC_OK);
    const char *n = "kept";
    const gc_value *v = NULL;
    ck_assert_int_eq(gc_state_domain_at(NULL, 0, &n, &v), GC_EINVAL);
    ck_assert_int_eq(gc_state_domain_at(st, 0, NULL, &v), GC_EINVAL);
    ck_assert_int_eq(gc_state_domain_at(st, 0, &n, NULL), GC_EINVAL);
    ck_assert_str_eq(n, "kept");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(gc_state_domain_at(st, 1, &n, &v), GC_ENOTFOUND);
    ck_assert_int_eq(gc_state_domain_at(st, 0, &n, &v), GC_OK);
    ck_assert_str_eq(n, "a");
    ck_assert_int_eq(v->i, 1);
    gc_state_free(st);
}
END_TEST

/* A lookup by name needs a state, a name and a place for its answer: a NULL
 * one is refused EINVAL, never followed, and the answer is left as it was. */
START_TEST(state_lookups_refuse_null_arguments)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "a", 1, NULL), GC_OK);
    const gc_value *v = NULL;
    uint64_t ver = 9;
    ck_assert_int_eq(gc_state_get(NULL, "a", &v), GC_EINVAL);
    ck_assert_int_eq(gc_state_get(st, NULL, &v), GC_EINVAL);
    ck_assert_int_eq(gc_state_get(st, "a", NULL), GC_EINVAL);
    ck_assert_int_eq(gc_state_key_version(NULL, "a", &ver), GC_EINVAL);
    ck_assert_int_eq(gc_state_key_version(st, NULL, &ver), GC_EINVAL);
    ck_assert_int_eq(gc_state_key_version(st, "a", NULL), GC_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(ver, 9);
    ck_assert_int_eq(gc_state_get(st, "a", &v), GC_OK);
    ck_assert_int_eq(v->i, 1);
    gc_state_free(st);
}
END_TEST

/* Pointers from gc_state_get stay valid while other keys are added. */
START_TEST(state_value_pointers_survive_growth)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "first", "stable", NULL), GC_OK);
    const gc_value *first;
    ck_assert_int_eq(gc_state_get(st, "first", &first), GC_OK);
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%d", i);
        ck_assert_int_eq(gc_state_set_int(st, name, i, NULL), GC_OK);
    }
    const gc_value *again;
    ck_assert_int_eq(gc_state_get(st, "first", &again), GC_OK);
    ck_assert_ptr_eq(first, again);
    ck_assert_str_eq(first->ptr, "stable");
    gc_state_free(st);
}
END_TEST

START_TEST(state_limits_and_rejects)
{
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    char *big = malloc(GC_VALUE_BYTES_MAX + 2);
    memset(big, 'x', GC_VALUE_BYTES_MAX + 1);
    big[GC_VALUE_BYTES_MAX] = '\0';
    ck_assert_int_eq(gc_state_set_str(st, "s", big, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "b", big, GC_VALUE_BYTES_MAX, &err), GC_OK);
    big[GC_VALUE_BYTES_MAX] = 'x';
    big[GC_VALUE_BYTES_MAX + 1] = '\0';
    /* A failed set leaves the previous value. */
    ck_assert_int_eq(gc_state_set_str(st, "s", big, &err), GC_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "4096"));
    ck_assert_int_eq(gc_state_set_bytes(st, "b", big, GC_VALUE_BYTES_MAX + 1, &err), GC_ELIMIT);
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(st, "s", &v), GC_OK);
    ck_assert_uint_eq(v->len, GC_VALUE_BYTES_MAX);
    free(big);
    ck_assert_int_eq(gc_state_set_int(st, "bad/name", 1, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "domain key"));
    ck_assert_int_eq(gc_state_set_int(st, ".x", 1, &err), GC_EINVAL);
    ck_assert_int_eq(gc_state_set_int(st, NULL, 1, &err), GC_EINVAL);
    /* A NULL argument is refused with a reason naming which one it is. */
    ck_assert_int_eq(gc_state_set_str(st, "x", NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_state_set_str: value is NULL");
    ck_assert_int_eq(gc_state_set_str(NULL, "x", "v", &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_state_set_str: state is NULL");
    ck_assert_int_eq(gc_state_set_bytes(st, "x", NULL, 3, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_state_set_bytes: value is NULL");
    ck_assert_int_eq(gc_state_set_bytes(NULL, "x", "v", 1, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_state_set_bytes: state is NULL");
    ck_assert_int_eq(gc_state_set_int(NULL, "x", 1, &err), GC_EINVAL);
    ck_assert_int_eq(gc_state_new(NULL, &err), GC_EINVAL);
    ck_assert_uint_eq(gc_state_domain_count(st), 2);
    for (int i = 2; i < GC_DOMAIN_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%d", i);
        ck_assert_int_eq(gc_state_set_int(st, name, i, &err), GC_OK);
    }
    ck_assert_int_eq(gc_state_set_int(st, "one_more", 1, &err), GC_ELIMIT);
    ck_assert_int_eq(gc_state_set_int(st, "k5", 55, &err), GC_OK);   /* replacing still works */
    ck_assert_uint_eq(gc_state_domain_count(st), GC_DOMAIN_MAX);
    gc_state_free(st);
}
END_TEST

START_TEST(state_owns_heavy_zone)
{
    int fds = tu_fd_count();
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_ptr_null(gc_state_heavy(st));
    gc_zone *draft = small_zone(0);
    ck_assert_int_eq(gc_state_set_heavy(st, draft, &err), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "not published"));
    gc_zone_free(draft);   /* refused: still the caller's */
    ck_assert_int_eq(gc_state_set_heavy(st, NULL, &err), GC_EINVAL);
    gc_zone *z1 = small_zone(1), *z2 = small_zone(1);
    ck_assert_int_eq(gc_state_set_heavy(st, z1, &err), GC_OK);
    ck_assert_ptr_eq(gc_state_heavy(st), z1);
    ck_assert_int_eq(gc_state_set_heavy(st, z1, &err), GC_OK);   /* same zone: no double free */
    ck_assert_int_eq(tu_fd_count(), fds + 2);
    ck_assert_int_eq(gc_state_set_heavy(st, z2, &err), GC_OK);   /* z1 freed */
    ck_assert_int_eq(tu_fd_count(), fds + 1);
    ck_assert_ptr_eq(gc_state_heavy(st), z2);
    gc_state_free(st);
    ck_assert_int_eq(tu_fd_count(), fds);
    gc_state_free(NULL);
}
END_TEST

/* Asking a state's version without a state is not a fault: there is none,
 * so the answer is 0, the version of a state nothing was committed to. */
START_TEST(state_version_without_a_state_is_zero)
{
    ck_assert_uint_eq(gc_state_version(NULL), 0);
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_uint_eq(gc_state_version(st), 0);
    gc_state_free(st);
}
END_TEST

/* A string over the limit is refused with the limit, never with a length
 * the engine did not measure (it stops counting one byte past the limit):
 * a string of 3 x 4096 bytes is not called one of 4097. */
START_TEST(state_long_string_refused_by_the_limit)
{
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    size_t n = 3 * GC_VALUE_BYTES_MAX;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    big[n] = '\0';
    char want[96];
    snprintf(want, sizeof want, "domain key 's': str value of more than %d bytes",
             GC_VALUE_BYTES_MAX);
    ck_assert_int_eq(gc_state_set_str(st, "s", big, &err), GC_ELIMIT);
    ck_assert_str_eq(err.msg, want);
    big[GC_VALUE_BYTES_MAX + 1] = '\0';   /* one byte over: the same refusal */
    ck_assert_int_eq(gc_state_set_str(st, "s", big, &err), GC_ELIMIT);
    ck_assert_str_eq(err.msg, want);
    ck_assert_uint_eq(gc_state_domain_count(st), 0);
    free(big);
    gc_state_free(st);
}
END_TEST

Suite *suite_state(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("state");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, state_values_typed_and_copied);
    tcase_add_test(tc, state_replace_keeps_order);
    tcase_add_test(tc, state_domain_at_refuses_null_arguments);
    tcase_add_test(tc, state_lookups_refuse_null_arguments);
    tcase_add_test(tc, state_value_pointers_survive_growth);
    tcase_add_test(tc, state_limits_and_rejects);
    tcase_add_test(tc, state_owns_heavy_zone);
    tcase_add_test(tc, state_version_without_a_state_is_zero);
    tcase_add_test(tc, state_long_string_refused_by_the_limit);
    suite_add_tcase(s, tc);
    return s;
}
