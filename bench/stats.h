/* stats: is the difference between two sets of repeated wall times real?
 *
 * A benchmark repeats each configuration a few times; the report and `compare` must say
 * whether one configuration is faster than another or whether the difference is within
 * the noise of those repeats. Two tests are combined:
 *   - a percentile bootstrap confidence interval of the ratio of medians (B / A), with a
 *     fixed seed so the same data always gives the same interval, and
 *   - a two-sided Mann-Whitney rank test (exact without ties and for small samples,
 *     normal approximation with tie correction otherwise).
 * A difference is "resolved" when the interval excludes 1 AND the rank test rejects at
 * the same level. The bootstrap alone is too eager with 3 repeats (three separated values
 * per side give an interval that excludes 1 although 3 against 3 is reached by chance
 * one time in ten); the rank test cannot reject below 4 repeats a side at 5%.
 *
 * The number of repeats needed is estimated from the measured spread: the standard
 * error of a median is about sqrt(pi/2) times that of a mean, so resolving a log-ratio
 * r at 95% needs n = (1.96 * 1.2533)^2 * (s_a^2 + s_b^2) / r^2 repeats a side, s being
 * the standard deviation of log(wall time) of each side; at least the rank test's
 * minimum of 4. */
#ifndef HPOOL_BENCH_STATS_H
#define HPOOL_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPOOL_STATS_LEVEL 0.95       /* confidence of the interval; test at 1 - level */
#define HPOOL_STATS_RESAMPLES 4000   /* bootstrap resamples: interval ends stable to ~1% */
#define HPOOL_STATS_SEED 0x5eedc0ffee123457ull /* fixed: reports are reproducible */
#define HPOOL_STATS_MIN_REPEATS 4    /* fewer a side and the rank test cannot reach 5% */
#define HPOOL_STATS_REPEATS_CAP 100000 /* "needed" beyond this is reported as the cap */

typedef struct {
    size_t n_a, n_b;
    double median_a, median_b;
    double ratio;        /* median_b / median_a */
    double lo, hi;       /* bootstrap interval of the ratio */
    double p_value;      /* two-sided Mann-Whitney */
    bool resolved;       /* interval excludes 1 and p < 1 - level */
    long repeats_needed; /* a side, at the measured spread; 0 when nothing differs at all */
} hpool_stats_cmp;

/* Median of v[0..n) (v is left sorted). NAN when n == 0. */
double hpool_stats_median(double *v, size_t n);

/* Two-sided p-value of the Mann-Whitney U test of a against b. 1 when either is empty. */
double hpool_stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb);

/* Percentile bootstrap interval of median(b) / median(a) at `level`, `resamples` draws
 * from the generator seeded with `seed`. \return 0, or -1 (empty side or no memory). */
int hpool_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double level,
                         unsigned resamples, uint64_t seed, double *lo, double *hi);

/* Repeats a side needed to resolve the ratio at the measured spread (see above). */
long hpool_stats_repeats_needed(const double *a, size_t na, const double *b, size_t nb);

/* Everything above with the default level, resamples and seed.
 * \return 0, or -1 when a side is empty or memory runs out (*out zeroed). */
int hpool_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                        hpool_stats_cmp *out);

/* One phrase for a report: "resolved (B/A 1.23, 95% CI 1.10-1.40)" or
 * "not resolved at 3 repeats (B/A 1.04, 95% CI 0.81-1.32; ~25 repeats needed)". */
void hpool_stats_describe(const hpool_stats_cmp *c, char *out, size_t len);

#endif
