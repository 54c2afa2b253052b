// Every GAN loss in each role of the step (D on fakes, D on reals, G) on batches of 1, 3, 65 and
// 1000 logits: the gradient, the mean loss and D(x). One call computes all three.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dcgan/cpu.h"
#include "op_case.h"
#include "test_util.h"

enum { L_LOGITS, L_DL, L_STATS };

static const char *const role_names[3] = {"D fake", "D real", "G"};

// CUDA: both sides compute in double; only exp/log1p's last-ulp differences reach the float
// results: 1e-7 of the largest value and 1e-6 relative. The other backends call the reference.
static op_tol loss_tol(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)c; (void)buf; (void)phase;
    return tg->cuda ? (op_tol){.rel = 1e-7, .rtol = 1e-6} : tol_equal();
}

static void loss_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)phase; (void)t;
    be->loss(be, p[L_DL], p[L_STATS], p[L_LOGITS], &c->d.loss);
}

// Logits kept away from the hinge's kinks at +-1.
static void away_from_kinks(const op_case *c, void *const *host) {
    float *l = host[L_LOGITS];
    for (int i = 0; i < c->d.loss.B; i++)
        if (fabsf(fabsf(l[i]) - 1.0f) < 0.05f) l[i] *= 1.2f;
}

static double loss_bytes(const op_case *c, int phase) { (void)phase; return 2.0 * c->d.loss.B * 4; }

static op_case *loss_case(op_list *l, gan_loss kind, loss_role role, int B, float scale, unsigned seed) {
    op_case *c = case_add(l, "loss", OP_LOSS);
    c->d.loss = (loss_desc){.kind = kind, .role = role, .B = B};
    buf_flat(c, L_LOGITS, "logits", BUF_F32, (size_t)B, scale, 0.0f, seed);
    buf_out(c, L_DL, "dlogits", BUF_F32, (size_t)B)->check = 1;
    buf_out(c, L_STATS, "loss, D(x)", BUF_F32, 2)->check = 1;
    c->nphases = 1;
    c->phase_name[0] = "fwd+bwd";
    c->run = loss_run;
    c->tol = loss_tol;
    c->bytes = loss_bytes;
    snprintf(c->name, sizeof c->name, "%s %s B%d", gan_loss_name(kind), role_names[role], B);
    return c;
}

static void loss_list(op_list *l, const op_list_opts *o) {
    if (o->perf) {
        loss_case(l, LOSS_NONSAT, ROLE_D_REAL, 64, 4.0f, 41);
        loss_case(l, LOSS_NONSAT, ROLE_D_REAL, 256, 4.0f, 41);
        return;
    }
    static const int batches[4] = {1, 3, 65, 1000};
    for (int k = 0; k < LOSS_COUNT; k++)
        for (int role = ROLE_D_FAKE; role <= ROLE_G; role++) {
            for (int b = 0; b < 4; b++) loss_case(l, (gan_loss)k, (loss_role)role, batches[b], 4.0f, 41);
            // Finite differences of the mean loss (a float computed in double: a step of 1e-2
            // keeps its rounding, 1e-7 relative, far below the bound).
            op_case *c = loss_case(l, (gan_loss)k, (loss_role)role, 9, 3.0f, 61u + (unsigned)k);
            c->init = away_from_kinks;
            case_fd(c, 1, 1, L_STATS, -1, 1e-2f, (op_tol){.abs = 1e-4, .rtol = 1e-3});
            case_fd_grad(c, L_LOGITS, L_DL);
        }
}

// --- cpu-ref against hand-computed values ----------------------------------------------------------

static double loss_of(float *dl, const float *logits, int B, gan_loss kind, loss_role role) {
    const loss_desc d = {.kind = kind, .role = role, .B = B};
    return gan_loss_mean(dl, logits, &d);
}

static void check_value(const char *name, double got, double expected, double tol) {
    const int ok = fabs(got - expected) <= tol;
    printf("cpu-ref %-36s got=%.9g expected=%.9g %s\n", name, got, expected, ok ? "ok" : "MISMATCH");
    if (!ok) { fprintf(stderr, "FAIL %s\n", name); test_failures++; }
}

// Values at logits 0 and 2, stability at extreme logits, and the names.
static void loss_ref_checks(void) {
    float zeros[2] = {0, 0}, twos[2] = {2, 2}, dl[2];
    const double ln2 = log(2.0), sp2 = log1p(exp(2.0)), spm2 = log1p(exp(-2.0)), sig2 = 1.0 / (1.0 + exp(-2.0));
    check_value("bce D real at 0 = ln2", loss_of(dl, zeros, 2, LOSS_NONSAT, ROLE_D_REAL), ln2, 1e-12);
    check_value("bce D real d_logit at 0 = -1/4", dl[0], -0.25, 1e-7);
    check_value("bce D fake at 2 = softplus(2)", loss_of(dl, twos, 2, LOSS_ML, ROLE_D_FAKE), sp2, 1e-12);
    check_value("bce D fake d_logit at 2 = sigmoid(2)/2", dl[1], sig2 / 2, 1e-7);
    check_value("nonsat G at 2 = softplus(-2)", loss_of(dl, twos, 2, LOSS_NONSAT, ROLE_G), spm2, 1e-12);
    check_value("minimax G at 2 = -softplus(2)", loss_of(dl, twos, 2, LOSS_MINIMAX, ROLE_G), -sp2, 1e-12);
    check_value("minimax G d_logit at 2", dl[0], -sig2 / 2, 1e-7);
    check_value("ml G at 2 = -exp(2)/2", loss_of(dl, twos, 2, LOSS_ML, ROLE_G), -0.5 * exp(2.0), 1e-12);
    check_value("ml G d_logit at 2", dl[0], -0.25 * exp(2.0), 1e-6);
    check_value("wgan D real at 2 = -2", loss_of(dl, twos, 2, LOSS_WGAN, ROLE_D_REAL), -2.0, 1e-12);
    check_value("wgan D fake at 2 = 2", loss_of(dl, twos, 2, LOSS_WGAN, ROLE_D_FAKE), 2.0, 1e-12);
    check_value("wgan G at 2 = -2", loss_of(dl, twos, 2, LOSS_WGAN, ROLE_G), -2.0, 1e-12);
    check_value("lsgan D real at 2 = 0.5", loss_of(dl, twos, 2, LOSS_LSGAN, ROLE_D_REAL), 0.5, 1e-12);
    check_value("lsgan D fake at 2 = 2", loss_of(dl, twos, 2, LOSS_LSGAN, ROLE_D_FAKE), 2.0, 1e-12);
    check_value("lsgan G at 0 = 0.5", loss_of(dl, zeros, 2, LOSS_LSGAN, ROLE_G), 0.5, 1e-12);
    check_value("hinge D real at 2 = 0", loss_of(dl, twos, 2, LOSS_HINGE, ROLE_D_REAL), 0.0, 1e-12);
    check_value("hinge D real d_logit at 2 = 0", dl[0], 0.0, 0);
    check_value("hinge D fake at 2 = 3", loss_of(dl, twos, 2, LOSS_HINGE, ROLE_D_FAKE), 3.0, 1e-12);
    check_value("hinge G at 2 = -2", loss_of(dl, twos, 2, LOSS_HINGE, ROLE_G), -2.0, 1e-12);
    float big[2] = {-200.0f, 200.0f};
    for (int k = 0; k < LOSS_COUNT; k++) {
        if (k == LOSS_ML) continue;   // exp(l) has no finite form at l = 200
        for (int role = ROLE_D_FAKE; role <= ROLE_G; role++)
            CHECK(isfinite(loss_of(dl, big, 2, (gan_loss)k, (loss_role)role)) && isfinite(dl[0]) && isfinite(dl[1]));
    }
    check_value("bce D real at -200 = 200", loss_of(dl, big, 1, LOSS_NONSAT, ROLE_D_REAL), 200.0, 1e-9);
    static const char *const names[] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};
    for (int k = 0; k < LOSS_COUNT; k++) {
        CHECK(gan_loss_parse(names[k]) == k);
        CHECK(strcmp(gan_loss_name((gan_loss)k), names[k]) == 0);
    }
    CHECK(gan_loss_parse("bogus") == -1);
    CHECK(gan_loss_parse("") == -1);
}

const op_family op_family_loss = {"loss", loss_list, loss_ref_checks};
