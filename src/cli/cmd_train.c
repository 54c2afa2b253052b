// dcgan train: option parsing for a training run.
#define _XOPEN_SOURCE 700   // realpath
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dcgan/eval.h"
#include "dcgan/data.h"
#include "dcgan/train.h"

#define TEXT_(x) #x
#define TEXT(x) TEXT_(x)   // a number's macro as a string literal

// The help text around the --loss row, which is made from the loss table.
static const char help_head[] =
    "usage: dcgan train [options]\n"
    "Trains a DCGAN (Radford et al.) as the PyTorch DCGAN example does.\n"
    "\n"
    "data:\n"
    "  --dataset KIND       folder | lsun | cifar10 | mnist | fashion-mnist | synthetic\n"
    "                                                                          [fashion-mnist]\n"
    "  --data PATH          folder: directory of .png/.jpg/.webp images (subfolders = classes);\n"
    "                       lsun: a *_lmdb directory or a directory of <class>_train_lmdb;\n"
    "                       cifar10: directory with data_batch_{1..5}.bin; mnist, fashion-mnist:\n"
    "                       directory with the IDX files  [" DEFAULT_FASHION_MNIST " for fashion-mnist]\n"
    "  --classes A,B        lsun: the classes to read (e.g. bedroom,church_outdoor)   [all]\n"
    "  --cache PATH         preprocessed-data cache: a directory, or a .dcgancache file [--out]\n"
    "  --strict             stop on an undecodable image instead of skipping it\n"
    "  --size N             image size: 32, 64 or 128                          [32]\n"
    "  --nc N               image channels: 1 or 3 (gray is replicated)\n"
    "                                          [3 for folder, lsun, cifar10; else 1]\n"
    "model:\n"
    "  --nz N               latent size                                        [100]\n"
    "  --ngf N              generator width                                    [64]\n"
    "  --ndf N              discriminator width                                [64]\n"
    "  --conditional        class-conditional G and D on the dataset's labels: the one-hot\n"
    "                       class is appended to z and, as constant planes, to D's input\n"
    "training:\n";
static const char help_tail[] =
    "  --batch-size N                                                          [64]\n"
    "  --iters N            total iterations (one G step each)\n"
    "  --epochs N           passes over the data when --iters is not given     [25]\n"
    "  --lr X               learning rate            [2e-4; wgan: 5e-5 with RMSprop]\n"
    "  --lr-d X / --lr-g X  D's / G's own learning rate (the two time-scale rule)  [--lr]\n"
    "  --ema D              keep a moving average of G (decay D, e.g. 0.999): netG_ema.safetensors,\n"
    "                       and the sample grids drawn with it                     [off]\n"
    "  --beta1 X            Adam beta1                                         [0.5]\n"
    "  --beta2 X            Adam beta2 (RMSprop's alpha for wgan)   [0.999; wgan: 0.99]\n"
    "  --d-steps K          D steps per G step                         [1; wgan: 5]\n"
    "  --clip X             clip D's weights to [-X, X] after each D step  [0; wgan: 0.01]\n"
    "  --seed N             seed for weights, noise and data order             [1]\n"
    "  --device D           cpu | cpu-ref | onednn | cuda | cuda:K | auto      [auto]\n"
    "                       (cpu: onednn when built, else cpu-ref, the OpenBLAS reference;\n"
    "                       data-parallel runs: each rank takes the GPU of its local rank)\n"
    "  --precision P        fp32 | bf16 activations and conv weights (bf16: onednn\n"
    "                       on a CPU with AVX512_BF16; master weights, BN, losses fp32) [fp32]\n"
    "  --threads N          OpenMP threads for every op          [all cores, or OMP_NUM_THREADS]\n"
    "  --sync-bn            data-parallel runs: batchnorm statistics of the global batch\n"
    "                       (all-reduced at every batchnorm layer) instead of each rank's own\n"
    "output:\n"
    "  --out DIR            run directory                                      [out]\n"
    "  --sample-every N     write samples_<iter>.png every N iterations (0: end only) [500]\n"
    "  --ckpt-every N       checkpoint every N iterations (0: end only)        [1000]\n"
    "  --log-every N        progress line interval when output is not a terminal [50]\n"
    "  --resume DIR         continue the run saved in DIR (its settings are kept)\n"
    "  --verbose            more detail about the run\n"
    "  --no-tensorboard     no TensorBoard events file in the run directory (written by default:\n"
    "                       the metrics as scalars and the sample grids as images)\n"
    "  --fid-every N        FID of G (of its moving average with --ema) every N iterations and at\n"
    "                       the end, in metrics.jsonl, plot.png and TensorBoard; the best G so far\n"
    "                       is kept as netG_best.safetensors (0: never)                    [0]\n"
    "  --fid-count N        generated images per FID, and dataset images in its reference set,\n"
    "                       computed once and kept beside the data cache            [" TEXT(RUN_FID_COUNT) "]\n"
    "  --inception FILE     FID's Inception weights (see dcgan fid --help)\n"
    "                       [$DCGAN_INCEPTION, else ~/.cache/dcgan/" INCEPTION_WEIGHTS_FILE "]\n"
    "\n"
    "The run directory receives real_samples.png, samples_<iter>.png (64 fixed-noise samples;\n"
    "conditional runs: one row of 8 per class, the first 16 classes, the same 8 z in every row),\n"
    "metrics.jsonl (one JSON object per iteration), netG.safetensors, netD.safetensors and\n"
    "train_state.safetensors. Ctrl-C saves a checkpoint and exits; --resume DIR continues.\n"
    "After kill -9, a full disk or a power cut, --resume DIR continues from the last checkpoint:\n"
    "metrics.jsonl and the TensorBoard file are cut back to it, so each iteration stays in them once.\n"
    "\n"
    "Data-parallel: mpirun -np N dcgan train ... (or srun, any MPI launcher) trains on N ranks;\n"
    "--batch-size is per rank. Rank 0 writes every file. SIGUSR1 to mpirun stops all ranks with a\n"
    "checkpoint; --resume with another N continues with the data position re-sharded.\n";

// "a SEP b SEP ... LAST z": the loss names, in the table's order.
static void loss_names(char *buf, size_t n, const char *sep, const char *last) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < LOSS_COUNT && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i == 0 ? "" : i + 1 < LOSS_COUNT ? sep : last,
                              gan_loss_name((gan_loss)i));
}

static void help(void) {
    char names[256], row[512];
    loss_names(names, sizeof names, " | ", " | ");
    snprintf(row, sizeof row, "  --loss NAME          %s", names);
    printf("%s%-74s[%s]\n%s", help_head, row, gan_loss_name(LOSS_NONSAT), help_tail);
}

// The weights file as an absolute path: a resumed run may start elsewhere.
static const char *absolute_path(const char *path) {
    static char buf[4096];
    return realpath(path, buf) ? buf : path;
}

// The values given on the command line for a new run; the loss picks the defaults of the others.
typedef struct {
    long size, nc, nz, ngf, ndf, batch, dsteps;
    float lr, lr_d, lr_g, ema, beta1, beta2, clip;
    unsigned long long seed;
    const char *loss;
    int sync_bn;
    dcgan_dtype precision;
} model_args;

// The options a resumed run takes too (where the run goes, not what it trains); 0 for another.
static int run_option(run_options *o, int c) {
    switch (c) {
    case OPT_DATA: o->data_path = optarg; break;
    case OPT_DEVICE: o->device = optarg; break;
    case OPT_OUT: o->out_dir = optarg; break;
    case OPT_ITERS: o->iters = parse_long("--iters", optarg, 1, 1000000000L); break;
    case OPT_EPOCHS: o->epochs = (int)parse_long("--epochs", optarg, 1, 1000000); break;
    case OPT_SAMPLE_EVERY: o->sample_every = (int)parse_long("--sample-every", optarg, 0, 1000000000L); break;
    case OPT_CKPT_EVERY: o->ckpt_every = (int)parse_long("--ckpt-every", optarg, 0, 1000000000L); break;
    case OPT_LOG_EVERY: o->log_every = (int)parse_long("--log-every", optarg, 1, 1000000000L); break;
    case OPT_RESUME: o->resume = optarg; break;
    case OPT_VERBOSE: o->verbose = 1; break;
    case OPT_NO_TENSORBOARD: o->no_tensorboard = 1; break;
    case OPT_CACHE: o->cache = optarg; break;
    case OPT_STRICT: o->strict = 1; break;
    case OPT_THREADS: set_threads(optarg); break;
    case OPT_FID_EVERY: o->fid_every = parse_long("--fid-every", optarg, 0, 1000000000L); break;
    case OPT_FID_COUNT: o->fid_count = parse_long("--fid-count", optarg, 2, 10000000L); break;
    case OPT_INCEPTION: o->inception = absolute_path(optarg); break;
    default: return 0;
    }
    return 1;
}

// The numeric options of a new run, each with its range; 1 when c was one of them.
static int number_option(model_args *a, int c) {
    const struct { int opt; long *to; long min, max; } longs[] = {
        {OPT_SIZE, &a->size, 1, 4096}, {OPT_NC, &a->nc, 1, 3}, {OPT_NZ, &a->nz, 1, 4096}, {OPT_NGF, &a->ngf, 1, 1024},
        {OPT_NDF, &a->ndf, 1, 1024}, {OPT_BATCH, &a->batch, 1, 65536}, {OPT_DSTEPS, &a->dsteps, 1, TRAIN_MAX_D_STEPS}};
    const struct { int opt; float *to; float min, max; } floats[] = {
        {OPT_LR, &a->lr, 0, 10}, {OPT_LR_D, &a->lr_d, 0, 10}, {OPT_LR_G, &a->lr_g, 0, 10},
        {OPT_EMA, &a->ema, 0, 0.999999f}, {OPT_BETA1, &a->beta1, 0, 0.999999f}, {OPT_BETA2, &a->beta2, 0, 0.999999f},
        {OPT_CLIP, &a->clip, 0, 1e6f}};
    char name[64];
    snprintf(name, sizeof name, "--%s", option_name(c));
    for (size_t i = 0; i < sizeof longs / sizeof *longs; i++)
        if (longs[i].opt == c) return *longs[i].to = parse_long(name, optarg, longs[i].min, longs[i].max), 1;
    for (size_t i = 0; i < sizeof floats / sizeof *floats; i++)
        if (floats[i].opt == c) return *floats[i].to = parse_float(name, optarg, floats[i].min, floats[i].max), 1;
    return 0;
}

// The options that say what a new run trains: refused with --resume.
static void model_option(run_options *o, model_args *a, int c) {
    if (number_option(a, c)) return;
    switch (c) {
    case OPT_DATASET: o->dataset = optarg; break;
    case OPT_CONDITIONAL: o->conditional = 1; break;
    case OPT_CLASSES: o->classes = optarg; break;
    case OPT_LOSS: a->loss = optarg; break;
    case OPT_SEED: a->seed = parse_seed("--seed", optarg); break;
    case OPT_SYNC_BN: a->sync_bn = 1; break;
    case OPT_PRECISION: a->precision = parse_precision("train", optarg); break;
    }
}

// The hyperparameters of a new run: the loss's defaults, then what the command line gave.
static void new_run_hparams(train_hparams *h, const model_args *a, const char *dataset) {
    int loss = gan_loss_parse(a->loss);
    if (loss < 0) {
        char names[256];
        loss_names(names, sizeof names, ", ", " or ");
        usage_error("train", "--loss: unknown loss '%s' (%s)", a->loss, names);
    }
    train_hparams_defaults(h, (gan_loss)loss);
    long nc = a->nc >= 0 ? a->nc : !strcmp(dataset, "folder") || !strcmp(dataset, "lsun") || !strcmp(dataset, "cifar10") ? 3 : 1;
    h->cfg = (dcgan_config){.size = (int)a->size, .nc = (int)nc, .nz = (int)a->nz, .ngf = (int)a->ngf, .ndf = (int)a->ndf};
    h->batch_size = (int)a->batch;
    h->sync_bn = a->sync_bn;
    h->seed = a->seed;
    h->precision = a->precision;
    if (a->lr >= 0) h->lr = h->lr_d = h->lr_g = a->lr;
    if (a->lr_d >= 0) h->lr_d = a->lr_d;
    if (a->lr_g >= 0) h->lr_g = a->lr_g;
    h->ema = a->ema;
    if (a->beta1 >= 0) h->beta1 = a->beta1;
    if (a->beta2 >= 0) h->beta2 = a->beta2;
    if (a->clip >= 0) h->clip = a->clip;
    if (a->dsteps > 0) h->d_steps = (int)a->dsteps;
}

int cmd_train(int argc, char **argv) {
    run_options o = {.dataset = "fashion-mnist", .device = "auto", .sample_every = 500, .ckpt_every = 1000,
                     .log_every = 50, .fid_every = -1};
    model_args a = {.size = 32, .nc = -1, .nz = 100, .ngf = 64, .ndf = 64, .batch = 64, .dsteps = -1, .lr = -1,
                    .lr_d = -1, .lr_g = -1, .beta1 = -1, .beta2 = -1, .clip = -1, .seed = 1, .loss = gan_loss_name(LOSS_NONSAT),
                    .precision = DTYPE_F32};
    int model_option_given = 0;
    option_parser p;
    options_begin(&p, "train", argc, argv,
                  "data dataset size nc nz ngf ndf loss batch-size iters epochs lr lr-d lr-g ema beta1 beta2 d-steps clip "
                  "seed device out sample-every ckpt-every log-every resume verbose help conditional no-tensorboard "
                  "classes cache strict sync-bn precision threads fid-every fid-count inception");
    for (int c; (c = next_option(&p)) != -1;) {
        if (c == OPT_HELP) { help(); return 0; }
        if (run_option(&o, c)) continue;
        model_option(&o, &a, c);
        model_option_given = c;
    }
    options_end(&p);
    if (o.resume && model_option_given)
        usage_error("train", "--%s cannot be combined with --resume: a resumed run keeps its settings",
                    option_name(model_option_given));
    if (o.resume) return run_training(&o);
    new_run_hparams(&o.hp, &a, o.dataset);
    if (!o.epochs) o.epochs = 25;
    if (!o.data_path && !strcmp(o.dataset, "fashion-mnist")) o.data_path = DEFAULT_FASHION_MNIST;
    if (!dataset_kind_valid(o.dataset)) usage_error("train", "--dataset: unknown kind '%s' (valid: %s)", o.dataset, dataset_kinds);
    if (!o.data_path && strcmp(o.dataset, "synthetic")) usage_error("train", "--dataset %s needs --data PATH", o.dataset);
    char err[256];
    if (dcgan_config_check(&o.hp.cfg, err, sizeof err)) usage_error("train", "%s", err);
    return run_training(&o);
}
