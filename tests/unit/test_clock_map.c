/* Unit tests of the clock map (src/clock.c): ping-pong samples and the worker → manager
 * time mapping, against simulated clocks whose truth is known.
 *
 * A simulated worker clock reads W(t) = t*(1+d) + O at manager time t; the true
 * manager - worker offset is then -(O + d*t), linear in t, so the map can be exact. A
 * round leaves the manager at s, reaches the worker after a one-way delay a (where it
 * reads its clock), and is back after a further delay b. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clock.h"

/* cmocka's float comparison works in float, too coarse for nanoseconds at 1e5 s. */
static void near(double a, double b, double eps, int line)
{
    if (!(fabs(a - b) <= eps))
        fail_msg("line %d: %.17g differs from %.17g by more than %g", line, a, b, eps);
}
#define assert_near(a, b, eps) near((a), (b), (eps), __LINE__)

typedef struct {
    double offset, drift;
} sim_clock;

static double wclock(const sim_clock *c, double t)
{
    return t * (1 + c->drift) + c->offset;
}

static double true_offset(const sim_clock *c, double t)
{
    return t - wclock(c, t);
}

/* One round at manager time s with delays a (out) and b (back). */
static void round_trip(hpool__clock_sample *s, const sim_clock *c, double at, double a,
                       double b)
{
    hpool__clock_sample_add(s, at, wclock(c, at + a), at + a + b);
}

/* A deterministic generator (tests must not depend on the libc's rand). */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void test_sample_keeps_smallest_rtt(void **state)
{
    (void)state;
    hpool__clock_sample s;
    hpool__clock_sample_reset(&s);
    assert_true(isinf(s.rtt));
    sim_clock c = {.offset = 3.0};
    round_trip(&s, &c, 100.0, 5e-6, 5e-6);
    assert_near(s.rtt, 10e-6, 1e-12);
    round_trip(&s, &c, 101.0, 1e-6, 2e-6); /* better: kept */
    assert_near(s.rtt, 3e-6, 1e-12);
    assert_near(s.at, 101.0 + 1.5e-6, 1e-12);
    /* worker read at 101+1e-6 → W = 104+1e-6; middle 101+1.5e-6 → offset -3 + 0.5e-6 */
    assert_near(s.offset, -3.0 + 0.5e-6, 1e-12);
    round_trip(&s, &c, 102.0, 10e-6, 10e-6); /* worse: ignored */
    assert_near(s.rtt, 3e-6, 1e-12);
    assert_near(s.at, 101.0 + 1.5e-6, 1e-12);
    /* a negative round trip (clock read out of order) and NaN are refused */
    hpool__clock_sample_add(&s, 200.0, 0.0, 199.0);
    hpool__clock_sample_add(&s, NAN, 0.0, 199.0);
    assert_near(s.rtt, 3e-6, 1e-12);
}

/* Whatever the delays, the best round's offset is within rtt/2 of the truth at the
 * moment the worker read its clock. */
static void test_offset_error_within_half_rtt(void **state)
{
    (void)state;
    sim_clock c = {.offset = 2.5, .drift = 1e-4};
    for (int trial = 0; trial < 1000; trial++) {
        hpool__clock_sample s;
        hpool__clock_sample_reset(&s);
        double t = 1e5 + trial, read_at = 0;
        for (int r = 0; r < HPOOL__CLOCK_ROUNDS; r++) {
            double a = 1e-6 + 50e-6 * uniform(), b = 1e-6 + 50e-6 * uniform();
            double rtt_before = s.rtt;
            round_trip(&s, &c, t, a, b);
            if (s.rtt < rtt_before)
                read_at = t + a;
            t += 1e-4;
        }
        double err = s.offset - true_offset(&c, read_at);
        assert_true(fabs(err) <= s.rtt / 2 * (1 + c.drift) + 1e-10);
    }
}

static hpool__clock_map exact_map(const sim_clock *c, double t_start, double t_end)
{
    hpool__clock_map m = {.have_start = true, .have_end = true};
    hpool__clock_sample_reset(&m.start);
    hpool__clock_sample_reset(&m.end);
    /* symmetric delays: the samples are exact */
    round_trip(&m.start, c, t_start, 1e-6, 1e-6);
    round_trip(&m.end, c, t_end, 1e-6, 1e-6);
    return m;
}

static void test_identity_without_samples(void **state)
{
    (void)state;
    hpool__clock_map m = {0};
    assert_near(hpool__clock_map_apply(&m, 12345.678), 12345.678, 0);
    assert_near(hpool__clock_map_drift(&m), 0, 0);
}

static void test_start_only_is_a_shift(void **state)
{
    (void)state;
    sim_clock c = {.offset = -7.25};
    hpool__clock_map m = exact_map(&c, 5000.0, 5001.0);
    m.have_end = false;
    assert_near(hpool__clock_map_drift(&m), 0, 0);
    for (double t = 5000; t < 5010; t += 0.37)
        assert_near(hpool__clock_map_apply(&m, wclock(&c, t)), t, 1e-9);
}

/* With exact samples the map inverts a linear clock exactly, at large absolute times
 * (~1e5..1e6 s since boot) as well, and between the samples to the nanosecond. */
static void test_linear_drift_exact(void **state)
{
    (void)state;
    const double drifts[] = {0, 1e-4, -1e-4, 5e-4, -3e-6};
    const double bases[] = {0.5, 86400.0, 1e6};
    for (size_t i = 0; i < sizeof drifts / sizeof drifts[0]; i++) {
        for (size_t j = 0; j < sizeof bases / sizeof bases[0]; j++) {
            sim_clock c = {.offset = 2.5, .drift = drifts[i]};
            double t0 = bases[j];
            hpool__clock_map m = exact_map(&c, t0, t0 + 100.0);
            assert_near(hpool__clock_map_drift(&m), -drifts[i] / 1.0, 1e-12);
            for (double t = t0; t <= t0 + 100.0; t += 3.3)
                assert_near(hpool__clock_map_apply(&m, wclock(&c, t)), t, 1e-9);
        }
    }
}

/* The map goes through both samples: a worker reading taken at a sample maps to the
 * middle of that sample's round trip. */
static void test_passes_through_samples(void **state)
{
    (void)state;
    sim_clock c = {.offset = 1.0, .drift = 2e-5};
    hpool__clock_map m = {.have_start = true, .have_end = true};
    hpool__clock_sample_reset(&m.start);
    hpool__clock_sample_reset(&m.end);
    round_trip(&m.start, &c, 1000.0, 3e-6, 9e-6); /* asymmetric: sample is off */
    round_trip(&m.end, &c, 1050.0, 8e-6, 2e-6);
    assert_near(hpool__clock_map_apply(&m, wclock(&c, 1000.0 + 3e-6)), m.start.at,
                        1e-9);
    assert_near(hpool__clock_map_apply(&m, wclock(&c, 1050.0 + 8e-6)), m.end.at,
                        1e-9);
}

/* Between the samples the error never exceeds the larger of the two samples' errors
 * (each within its rtt/2), however asymmetric the delays. */
static void test_interpolation_error_bounded(void **state)
{
    (void)state;
    for (int trial = 0; trial < 500; trial++) {
        sim_clock c = {.offset = 10 * uniform() - 5, .drift = 2e-4 * uniform() - 1e-4};
        hpool__clock_map m = {.have_start = true, .have_end = true};
        hpool__clock_sample_reset(&m.start);
        hpool__clock_sample_reset(&m.end);
        double ts = 2e4 + 100 * uniform(), te = ts + 0.01 + 10 * uniform();
        round_trip(&m.start, &c, ts, 30e-6 * uniform(), 30e-6 * uniform());
        round_trip(&m.end, &c, te, 30e-6 * uniform(), 30e-6 * uniform());
        double bound = fmax(m.start.rtt, m.end.rtt) / 2 * (1 + fabs(c.drift)) + 1e-9;
        for (int k = 0; k <= 20; k++) {
            double t = ts + (te - ts) * k / 20.0;
            double err = hpool__clock_map_apply(&m, wclock(&c, t)) - t;
            assert_true(fabs(err) <= bound);
        }
    }
}

/* Strictly increasing: one worker's events keep their order after mapping. */
static void test_monotonic(void **state)
{
    (void)state;
    sim_clock c = {.offset = 0.3, .drift = -4e-4};
    hpool__clock_map m = exact_map(&c, 3e5, 3e5 + 2);
    double prev = -INFINITY;
    for (double w = wclock(&c, 3e5 - 1); w < wclock(&c, 3e5 + 3); w += 1e-3) {
        double t = hpool__clock_map_apply(&m, w);
        assert_true(t > prev);
        prev = t;
    }
}

/* Samples too close together for a slope (or out of order) fall back to the start
 * offset; a large but sane slope is used. */
static void test_slope_guard(void **state)
{
    (void)state;
    hpool__clock_map m = {.have_start = true, .have_end = true};
    m.start = (hpool__clock_sample){.offset = 1.0, .rtt = 1e-6, .at = 10.0};
    m.end = (hpool__clock_sample){.offset = 1.0 + 5e-6, .rtt = 1e-6, .at = 10.0 + 1e-5};
    assert_near(hpool__clock_map_drift(&m), 0, 0); /* slope 0.5: refused */
    assert_near(hpool__clock_map_apply(&m, 20.0), 21.0, 1e-12);
    m.end.at = m.start.at; /* no time between them */
    assert_near(hpool__clock_map_drift(&m), 0, 0);
    m.end.at = m.start.at - 1;
    assert_near(hpool__clock_map_drift(&m), 0, 0);
    m.end = (hpool__clock_sample){.offset = 1.0 + 1e-3, .rtt = 1e-6, .at = 20.0};
    assert_near(hpool__clock_map_drift(&m), 1e-4, 1e-15);
    m.have_end = false;
    assert_near(hpool__clock_map_drift(&m), 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_keeps_smallest_rtt),
        cmocka_unit_test(test_offset_error_within_half_rtt),
        cmocka_unit_test(test_identity_without_samples),
        cmocka_unit_test(test_start_only_is_a_shift),
        cmocka_unit_test(test_linear_drift_exact),
        cmocka_unit_test(test_passes_through_samples),
        cmocka_unit_test(test_interpolation_error_bounded),
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_slope_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
