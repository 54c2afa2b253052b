// FID and KID on feature sets against the reference tools: tests/fixtures/fid.safetensors holds
// two sets and what pytorch-fid (calculate_frechet_distance) and torch-fidelity
// (kid_features_to_metric) make of them (tests/make_fid_fixture.py). Also: the statistics against
// numpy's mean and covariance, FID(a, a) = 0, symmetry, the statistics file round trip, seeded
// subsets, and the errors.
//
// Tolerances: both sides work in double on the same float features. The covariance is a sum of
// 400 products per entry, so ours and numpy's differ by ~1e-15 relative. FID's square-root term
// goes through different but backward-stable routes (scipy's Schur method on S_a S_b, our
// symmetric eigensolver on R S_b R): each loses ~cond * 1e-16; the spectra here are well
// conditioned (cond < 1e4), so agreement to 1e-9 relative is expected and the required 1e-3 is
// far from any real error. KID: torch-fidelity evaluates the kernel in the features' float32,
// ours in double. A cubed kernel value near 4 carries ~3 float32 roundings (2e-7 relative), and
// MMD^2 ~ 1 is the difference of means of such values of size ~4 + 4 - 8, a cancellation of about
// 16, so the reference is good to ~3e-6 relative; 1e-5 is allowed. (Given the features as float64,
// kid_features_to_metric returns 1.00446055972035, ours to 12 digits.)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "test_util.h"

static double meta_double(const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    return v ? strtod(v, NULL) : NAN;
}

static void check_rel(const char *what, double got, double want, double rel) {
    double e = fabs(got - want) / fabs(want);
    printf("%-36s ours %.12g reference %.12g rel. difference %.2e (allowed %.0e)\n", what, got, want, e, rel);
    CHECK(e <= rel);
}

int main(void) {
    char err[512];
    st_file f;
    if (st_read("fixtures/fid.safetensors", &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    const st_tensor *a = st_find(&f, "a"), *b = st_find(&f, "b"), *mu = st_find(&f, "mu_a"), *sigma = st_find(&f, "sigma_a");
    if (!a || !b || !mu || !sigma) { fprintf(stderr, "FAIL fixture incomplete\n"); return 1; }
    const long n = (long)a->shape[0];
    const int d = (int)a->shape[1];
    feature_stats sa, sb;
    CHECK(feature_stats_compute(&sa, a->data, n, d, err, sizeof err) == 0);
    CHECK(feature_stats_compute(&sb, b->data, (long)b->shape[0], d, err, sizeof err) == 0);
    double worst_mu = 0, worst_cov = 0;
    const double *want_mu = mu->data, *want_cov = sigma->data;
    for (int i = 0; i < d; i++) worst_mu = fmax(worst_mu, fabs(sa.mean[i] - want_mu[i]));
    for (int i = 0; i < d * d; i++) worst_cov = fmax(worst_cov, fabs(sa.cov[i] - want_cov[i]));
    printf("statistics vs numpy: max |mean difference| %.2e, max |covariance difference| %.2e\n", worst_mu, worst_cov);
    CHECK(worst_mu <= 1e-12 && worst_cov <= 1e-12);

    double fid = 0, fid_ba = 0, fid_aa = 0;
    CHECK(fid_distance(&sa, &sb, &fid, err, sizeof err) == 0);
    check_rel("FID vs pytorch-fid", fid, meta_double(&f, "fid"), 1e-3);
    check_rel("FID, the same at 1e-9", fid, meta_double(&f, "fid"), 1e-9);
    CHECK(fid_distance(&sb, &sa, &fid_ba, err, sizeof err) == 0);
    check_rel("FID symmetric", fid_ba, fid, 1e-9);
    CHECK(fid_distance(&sa, &sa, &fid_aa, err, sizeof err) == 0);
    printf("FID(a, a) = %.3e\n", fid_aa);
    CHECK(fabs(fid_aa) <= 1e-8 * fid);

    double kid = 0, kid_std = -1;
    CHECK(kid_score(a->data, n, b->data, (long)b->shape[0], d, 1, (int)n, 1, &kid, &kid_std, err, sizeof err) == 0);
    check_rel("KID vs torch-fidelity", kid, meta_double(&f, "kid_mean"), 1e-5);
    CHECK(kid_std == 0);
    // Random subsets: seeded, so repeatable; a different seed draws other subsets.
    double k1, s1, k2, s2, k3, s3;
    CHECK(kid_score(a->data, n, b->data, n, d, 10, 100, 5, &k1, &s1, err, sizeof err) == 0);
    CHECK(kid_score(a->data, n, b->data, n, d, 10, 100, 5, &k2, &s2, err, sizeof err) == 0);
    CHECK(kid_score(a->data, n, b->data, n, d, 10, 100, 6, &k3, &s3, err, sizeof err) == 0);
    printf("KID over 10 subsets of 100: %.6g +- %.3g (seed 5), %.6g (seed 6)\n", k1, s1, k3);
    CHECK(k1 == k2 && s1 == s2 && k1 != k3 && s1 > 0 && fabs(k1 - kid) < 5 * s1 + 0.1 * kid);

    // The statistics file.
    const char *dir = make_temp_dir("fid");
    char path[512];
    snprintf(path, sizeof path, "%s/stats.safetensors", dir);
    feature_stats back;
    CHECK(feature_stats_save(&sa, path, err, sizeof err) == 0);
    CHECK(feature_stats_load(&back, path, err, sizeof err) == 0);
    CHECK(back.dim == d && back.count == n && !memcmp(back.mean, sa.mean, d * sizeof(double)) &&
          !memcmp(back.cov, sa.cov, (size_t)d * d * sizeof(double)));
    feature_stats_free(&back);

    // Errors: one line each.
    feature_stats small;
    CHECK(feature_stats_compute(&small, a->data, 1, d, err, sizeof err) == -1 && strstr(err, "at least 2"));
    CHECK(feature_stats_compute(&small, a->data, n, d / 2, err, sizeof err) == 0);
    CHECK(fid_distance(&sa, &small, &fid, err, sizeof err) == -1 && strstr(err, "dimensions"));
    printf("errors: '%s'\n", err);
    CHECK(kid_score(a->data, n, b->data, n, d, 1, (int)n + 1, 1, &kid, &kid_std, err, sizeof err) == -1);
    printf("errors: '%s'\n", err);
    CHECK(feature_stats_load(&back, "fixtures/parity_nonsat.safetensors", err, sizeof err) == -1 &&
          strstr(err, "not feature statistics"));
    printf("errors: '%s'\n", err);
    feature_stats_free(&small);
    feature_stats_free(&sa);
    feature_stats_free(&sb);
    st_free(&f);
    return test_summary("test_fid");
}
