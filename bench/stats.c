/* stats.c: bootstrap interval of a ratio of medians, Mann-Whitney test, repeats needed.
 * The reasoning behind the combination is at the top of stats.h. */
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX_TOTAL 50 /* exact U distribution up to na + nb = 50: counts < 2^53 */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double hpool_stats_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double median_copy(const double *v, size_t n, double *scratch)
{
    memcpy(scratch, v, n * sizeof *v);
    return hpool_stats_median(scratch, n);
}

/* ------------------------------------------------------------------ Mann-Whitney */

/* U = pairs (a_i, b_j) with a_i > b_j, ties counted one half. */
static double u_statistic(const double *a, size_t na, const double *b, size_t nb, bool *ties)
{
    double u = 0;
    *ties = false;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i] > b[j])
                u += 1;
            else if (a[i] == b[j]) {
                u += 0.5;
                *ties = true;
            }
        }
    for (size_t i = 0; i + 1 < na && !*ties; i++)
        for (size_t j = i + 1; j < na && !*ties; j++)
            *ties = a[i] == a[j];
    for (size_t i = 0; i + 1 < nb && !*ties; i++)
        for (size_t j = i + 1; j < nb && !*ties; j++)
            *ties = b[i] == b[j];
    return u;
}

/* Exact null distribution of U without ties: the coefficients of the Gaussian binomial
 * [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), built factor by factor (each
 * partial product is itself a polynomial, so the divisions are exact). */
static double exact_p(double u, size_t m, size_t n)
{
    size_t deg = m * n, len = deg + m + n + 2;
    double *p = calloc(len, sizeof *p);
    if (p == NULL)
        return NAN;
    p[0] = 1;
    for (size_t i = 1; i <= m; i++) {
        for (size_t k = len - 1; k >= n + i; k--)
            p[k] -= p[k - (n + i)];
        for (size_t k = i; k < len; k++)
            p[k] += p[k - i];
    }
    double total = 0, below = 0, above = 0;
    for (size_t k = 0; k <= deg; k++) {
        total += p[k];
        if ((double)k <= u)
            below += p[k];
        if ((double)k >= u)
            above += p[k];
    }
    free(p);
    double two = 2 * fmin(below, above) / total;
    return two > 1 ? 1 : two;
}

/* Normal approximation with the tie correction of the variance and a continuity
 * correction. */
static double normal_p(double u, const double *a, size_t na, const double *b, size_t nb)
{
    size_t n = na + nb;
    double *all = malloc(n * sizeof *all);
    if (all == NULL)
        return NAN;
    memcpy(all, a, na * sizeof *a);
    memcpy(all + na, b, nb * sizeof *b);
    qsort(all, n, sizeof *all, cmp_double);
    double tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j] == all[i])
            j++;
        double t = (double)(j - i);
        tie_term += t * t * t - t;
        i = j;
    }
    free(all);
    double N = (double)n, mn = (double)na * (double)nb;
    double var = mn / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
    if (!(var > 0))
        return 1;
    double z = (fabs(u - mn / 2) - 0.5) / sqrt(var);
    return z <= 0 ? 1 : erfc(z / sqrt(2.0));
}

double hpool_stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return 1;
    bool ties;
    double u = u_statistic(a, na, b, nb, &ties);
    if (!ties && na + nb <= EXACT_MAX_TOTAL)
        return exact_p(u, na, nb);
    return normal_p(u, a, na, b, nb);
}

/* ------------------------------------------------------------------ bootstrap */

/* splitmix64: small, fast, and the same sequence on every platform. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t random_index(uint64_t *state, size_t n)
{
    return (size_t)(((unsigned __int128)next_random(state) * n) >> 64);
}

static double resample_median(const double *v, size_t n, double *scratch, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = v[random_index(state, n)];
    return hpool_stats_median(scratch, n);
}

/* Quantile of sorted v by linear interpolation between order statistics. */
static double quantile(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t i = (size_t)h;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

int hpool_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double level,
                         unsigned resamples, uint64_t seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (na == 0 || nb == 0 || resamples == 0)
        return -1;
    double *scratch = malloc((na > nb ? na : nb) * sizeof *scratch);
    double *ratios = malloc(resamples * sizeof *ratios);
    if (scratch == NULL || ratios == NULL) {
        free(scratch);
        free(ratios);
        return -1;
    }
    uint64_t state = seed;
    for (unsigned r = 0; r < resamples; r++) {
        double ma = resample_median(a, na, scratch, &state);
        double mb = resample_median(b, nb, scratch, &state);
        ratios[r] = ma > 0 ? mb / ma : INFINITY;
    }
    qsort(ratios, resamples, sizeof *ratios, cmp_double);
    *lo = quantile(ratios, resamples, (1 - level) / 2);
    *hi = quantile(ratios, resamples, 1 - (1 - level) / 2);
    free(scratch);
    free(ratios);
    return 0;
}

/* ------------------------------------------------------------------ repeats needed */

/* Standard deviation of log(v); NAN when undefined (n < 2 or a value <= 0). */
static double log_sd(const double *v, size_t n)
{
    if (n < 2)
        return NAN;
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] > 0))
            return NAN;
        mean += log(v[i]);
    }
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (log(v[i]) - mean) * (log(v[i]) - mean);
    return sqrt(ss / (double)(n - 1));
}

long hpool_stats_repeats_needed(const double *a, size_t na, const double *b, size_t nb)
{
    double *scratch = malloc((na > nb ? na : nb) * sizeof *scratch + 1);
    if (scratch == NULL || na == 0 || nb == 0) {
        free(scratch);
        return -1;
    }
    double ma = median_copy(a, na, scratch), mb = median_copy(b, nb, scratch);
    free(scratch);
    double sa = log_sd(a, na), sb = log_sd(b, nb);
    if (!isfinite(sa) || !isfinite(sb) || !(ma > 0) || !(mb > 0))
        return -1;
    double r = log(mb / ma), var = sa * sa + sb * sb;
    if (r == 0)
        return var == 0 ? 0 : HPOOL_STATS_REPEATS_CAP;
    const double z = 1.959964 * 1.253314; /* 95% two-sided, efficiency of the median */
    double n = ceil(z * z * var / (r * r));
    if (n < HPOOL_STATS_MIN_REPEATS)
        n = HPOOL_STATS_MIN_REPEATS;
    return n > HPOOL_STATS_REPEATS_CAP ? HPOOL_STATS_REPEATS_CAP : (long)n;
}

/* ------------------------------------------------------------------ together */

int hpool_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                        hpool_stats_cmp *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0)
        return -1;
    double *scratch = malloc((na > nb ? na : nb) * sizeof *scratch);
    if (scratch == NULL)
        return -1;
    out->n_a = na;
    out->n_b = nb;
    out->median_a = median_copy(a, na, scratch);
    out->median_b = median_copy(b, nb, scratch);
    free(scratch);
    out->ratio = out->median_a > 0 ? out->median_b / out->median_a : NAN;
    if (hpool_stats_ratio_ci(a, na, b, nb, HPOOL_STATS_LEVEL, HPOOL_STATS_RESAMPLES,
                             HPOOL_STATS_SEED, &out->lo, &out->hi) != 0)
        return -1;
    out->p_value = hpool_stats_mann_whitney(a, na, b, nb);
    out->resolved = (out->lo > 1 || out->hi < 1) && out->p_value < 1 - HPOOL_STATS_LEVEL;
    out->repeats_needed = hpool_stats_repeats_needed(a, na, b, nb);
    return 0;
}

static void repeats_phrase(const hpool_stats_cmp *c, char *out, size_t len)
{
    if (c->n_a == c->n_b)
        snprintf(out, len, "%zu", c->n_a);
    else
        snprintf(out, len, "%zu and %zu", c->n_a, c->n_b);
}

void hpool_stats_describe(const hpool_stats_cmp *c, char *out, size_t len)
{
    char reps[64], need[96] = "";
    repeats_phrase(c, reps, sizeof reps);
    if (c->resolved) {
        snprintf(out, len, "resolved at %s repeats (ratio %.3f, 95%% CI %.3f-%.3f, p %.2g)",
                 reps, c->ratio, c->lo, c->hi, c->p_value);
        return;
    }
    if (c->repeats_needed >= HPOOL_STATS_REPEATS_CAP)
        snprintf(need, sizeof need, "; no measurable difference to resolve");
    else if (c->repeats_needed > 0) {
        /* The estimate is asymptotic; never suggest the count that just failed. */
        long have = (long)(c->n_a > c->n_b ? c->n_a : c->n_b);
        long n = c->repeats_needed > have ? c->repeats_needed : have + 1;
        snprintf(need, sizeof need, "; ~%ld repeats a side needed at this spread", n);
    }
    else if (c->repeats_needed < 0)
        snprintf(need, sizeof need, "; too few repeats to estimate the spread");
    snprintf(out, len, "not resolved at %s repeats (ratio %.3f, 95%% CI %.3f-%.3f, p %.2g%s)",
             reps, c->ratio, c->lo, c->hi, c->p_value, need);
}
