// The training-state checkpoint: optimiser moments, counters, data/noise position and options,
// stored as train_state.safetensors beside netG.safetensors and netD.safetensors.
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/train.h"

#define MAX_META (48 + DCGAN_MAX_CLASSES)   // options, position, and a conditional run's class names

// Heap-allocated: a conditional run adds one entry per class name.
typedef struct { st_meta *m; int n; } meta_list;

static int meta_open(meta_list *l, char *err, size_t errlen) {
    l->n = 0;
    if (!(l->m = calloc(MAX_META, sizeof *l->m))) return set_error(err, errlen, "out of memory saving a checkpoint");
    return 0;
}

__attribute__((format(printf, 3, 4)))
static void put(meta_list *l, const char *key, const char *fmt, ...) {
    if (l->n >= MAX_META) return;
    st_meta *m = &l->m[l->n++];
    snprintf(m->key, sizeof m->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->value, sizeof m->value, fmt, ap);
    va_end(ap);
}

static void path_in(char *buf, size_t n, const char *dir, const char *file) {
    snprintf(buf, n, "%s/%s", dir, file);
}

// A conditional run's class names: "class_name.<k>" = name of class k.
static void put_class_names(meta_list *l, const trainer *t, const run_options *o) {
    for (int k = 0; k < t->hp.cfg.nclasses && o->class_names; k++) {
        char key[32];
        snprintf(key, sizeof key, CKPT_CLASS_NAME_KEY "%d", k);
        put(l, key, "%s", o->class_names[k]);
    }
}

// A checkpoint's files in the order they are committed (renamed from their staged temporary
// names, all written and synced first): netG first, train_state last. A netG newer than
// train_state therefore says that a commit was cut short with the rest of the set staged.
enum { CK_G, CK_D, CK_EMA, CK_STATE, CK_FILES };
static const char *const ckpt_files[CK_FILES] = {"netG.safetensors", "netD.safetensors", "netG_ema.safetensors",
                                                 "train_state.safetensors"};

static int stage_nets(const trainer *t, const run_options *o, const run_position *pos, const char *dir, char *err,
                      size_t errlen) {
    char path[4096];
    meta_list iter_meta;
    if (meta_open(&iter_meta, err, errlen)) return -1;
    put(&iter_meta, "iteration", "%ld", pos->iter);
    put_class_names(&iter_meta, t, o);
    const dcgan_net *nets[CK_STATE] = {&t->G, &t->D, &t->G_ema};
    int rc = 0;
    for (int k = 0; k < CK_STATE && !rc; k++) {
        if (k == CK_EMA && !(t->hp.ema > 0)) continue;
        path_in(path, sizeof path, dir, ckpt_files[k]);
        rc = ckpt_stage_net(nets[k], path, iter_meta.m, iter_meta.n, err, errlen);
    }
    free(iter_meta.m);
    return rc;
}

// The options and position of the run, as train_state's metadata.
static void put_state(meta_list *m, const trainer *t, const run_options *o, const run_position *pos) {
    const train_hparams *h = &t->hp;
    put(m, "format", "dcgan-train-state");
    put(m, "iteration", "%ld", pos->iter);
    put(m, "total_iters", "%ld", pos->total_iters);
    put(m, "epoch", "%ld", pos->epoch);
    put(m, "batch_pos", "%ld", pos->batch_pos);
    put(m, "noise_offset", "%llu", (unsigned long long)pos->noise_offset);
    put(m, "steps_g", "%ld", pos->steps_g);
    put(m, "steps_d", "%ld", pos->steps_d);
    put(m, "seed", "%llu", (unsigned long long)h->seed);
    put(m, "loss", "%s", gan_loss_name(h->loss));
    put(m, "optimizer", "%s", h->optimizer == OPT_ADAM ? "adam" : "rmsprop");
    put(m, "lr", "%.9g", h->lr);
    put(m, "lr_g", "%.9g", h->lr_g);
    put(m, "lr_d", "%.9g", h->lr_d);
    put(m, "ema", "%.9g", h->ema);
    put(m, "beta1", "%.9g", h->beta1);
    put(m, "beta2", "%.9g", h->beta2);
    put(m, "eps", "%.9g", h->eps);
    put(m, "clip", "%.9g", h->clip);
    put(m, "precision", "%s", dtype_name(h->precision));
    put(m, "d_steps", "%d", h->d_steps);
    put(m, "batch_size", "%d", h->batch_size);
    put(m, "size", "%d", h->cfg.size);
    put(m, "nc", "%d", h->cfg.nc);
    put(m, "nz", "%d", h->cfg.nz);
    put(m, "ngf", "%d", h->cfg.ngf);
    put(m, "ndf", "%d", h->cfg.ndf);
    put(m, "dataset", "%s", o->dataset);
    put(m, "data", "%s", o->data_path ? o->data_path : "");
    put(m, "nclasses", "%d", h->cfg.nclasses);
    put(m, "class_offset", "%llu", (unsigned long long)pos->class_offset);
    put_class_names(m, t, o);
    put(m, "classes", "%s", o->classes ? o->classes : "");
    put(m, "ranks", "%d", pos->ranks > 0 ? pos->ranks : 1);   // batch_pos counts global batches of this many
    put(m, "sync_bn", "%d", h->sync_bn);
    put(m, "fid_every", "%ld", o->fid_every);
    put(m, "fid_count", "%ld", o->fid_count);
    put(m, "inception", "%s", o->inception ? o->inception : "");
}

// The optimiser moments (G.optim.0, ...), downloaded into host[] (freed by the caller). The count, or -1.
static int optim_tensors(const trainer *t, st_tensor *tensors, float **host) {
    const dcgan_net *nets[2] = {&t->G, &t->D};
    float *const *states[2] = {t->opt_g, t->opt_d};
    int nstate = t->hp.optimizer == OPT_ADAM ? 2 : 1, nt = 0, rc = 0;
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < nstate; s++, nt++) {
            size_t bytes = nets[k]->nparams * sizeof(float);
            host[nt] = malloc(bytes);
            if (!host[nt]) { rc = -1; continue; }
            t->be->download(t->be, host[nt], states[k][s], bytes);
            memset(&tensors[nt], 0, sizeof tensors[nt]);
            snprintf(tensors[nt].name, sizeof tensors[nt].name, "%s.optim.%d", k ? "D" : "G", s);
            tensors[nt].dtype = ST_F32;
            tensors[nt].ndim = 1;
            tensors[nt].shape[0] = (int64_t)nets[k]->nparams;
            tensors[nt].data = host[nt];
            tensors[nt].nbytes = bytes;
        }
    return rc ? -1 : nt;
}

static int stage_state(const trainer *t, const run_options *o, const run_position *pos, const char *dir, char *err,
                       size_t errlen) {
    meta_list m;
    if (meta_open(&m, err, errlen)) return -1;
    put_state(&m, t, o, pos);
    st_tensor tensors[4];
    float *host[4] = {0};
    const int nt = optim_tensors(t, tensors, host);
    int rc = -1;
    if (nt < 0) {
        set_error(err, errlen, "out of memory saving the training state");
    } else {
        char path[4096];
        path_in(path, sizeof path, dir, ckpt_files[CK_STATE]);
        rc = st_stage(path, tensors, nt, m.m, m.n, err, errlen);
    }
    for (int i = 0; i < 4; i++) free(host[i]);
    free(m.m);
    return rc;
}

int run_save_checkpoint(const trainer *t, const run_options *o, const run_position *pos,
                        const char *dir, char *err, size_t errlen) {
    char path[4096];
    int staged = !stage_nets(t, o, pos, dir, err, errlen) && !stage_state(t, o, pos, dir, err, errlen);
    for (int k = 0; k < CK_FILES; k++) {
        if (k == CK_EMA && !(t->hp.ema > 0)) continue;
        path_in(path, sizeof path, dir, ckpt_files[k]);
        if (!staged) st_discard(path);
        else if (st_commit(path, err, errlen)) return -1;   // the rest stays staged: the next start completes it
    }
    return staged ? dir_sync(dir, err, errlen) : -1;
}

static int get_long(const st_file *f, const char *key, long *out, const char *path, char *err, size_t errlen) {
    const char *v = st_meta_get(f, key);
    char *end = NULL;
    if (v) *out = strtol(v, &end, 10);
    if (!v || end == v || *end) return path_error(err, errlen, path, "metadata '%s' is missing or not an integer", key);
    return 0;
}

static int get_float(const st_file *f, const char *key, float *out, const char *path, char *err, size_t errlen) {
    const char *v = st_meta_get(f, key);
    char *end = NULL;
    if (v) *out = strtof(v, &end);
    if (!v || end == v || *end) return path_error(err, errlen, path, "metadata '%s' is missing or not a number", key);
    return 0;
}

// Options outlive the state file; what they point to stays reachable from this list for the
// whole process (a program may load options more than once). NULL when out of memory.
static void *keep(size_t n) {
    static struct kept { struct kept *next; _Alignas(max_align_t) char data[]; } *list;
    struct kept *k = calloc(1, sizeof *k + n);
    if (!k) return NULL;
    k->next = list;
    list = k;
    return k->data;
}

// A kept copy of s ("" for NULL); NULL when out of memory.
static char *keep_string(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *copy = keep(n);
    return copy ? memcpy(copy, s, n) : NULL;
}

// A metadata string kept in *out when it is there and not empty; a value given already wins.
static int keep_given(const char **out, const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    if (*out || !v || !*v) return 0;
    return (*out = keep_string(v)) ? 0 : -1;
}

// The hyperparameters of the saved run, and its iteration count in *total_iters.
static int read_hparams(const st_file *f, train_hparams *h, long *total_iters, const char *path, char *err,
                        size_t errlen) {
    long v[9];
    const char *ikeys[] = {"seed", "d_steps", "batch_size", "size", "nc", "nz", "ngf", "ndf", "total_iters"};
    for (int i = 0; i < 9; i++)
        if (get_long(f, ikeys[i], &v[i], path, err, errlen)) return -1;
    if (get_float(f, "lr", &h->lr, path, err, errlen)) return -1;
    // The two learning rates and the average of G (absent in the state of a run saved before them).
    h->lr_g = h->lr_d = h->lr;
    h->ema = 0;
    const char *fkeys[] = {"lr_g", "lr_d", "ema", "beta1", "beta2", "eps", "clip"};
    float *to[] = {&h->lr_g, &h->lr_d, &h->ema, &h->beta1, &h->beta2, &h->eps, &h->clip};
    for (int i = 0; i < 7; i++)
        if ((i >= 3 || st_meta_get(f, fkeys[i])) && get_float(f, fkeys[i], to[i], path, err, errlen)) return -1;
    const char *loss = st_meta_get(f, "loss"), *opt = st_meta_get(f, "optimizer");
    if (!loss || gan_loss_parse(loss) < 0 || !opt || (strcmp(opt, "adam") && strcmp(opt, "rmsprop")))
        return path_error(err, errlen, path, "metadata names an unknown loss or optimizer");
    h->seed = (uint64_t)v[0]; h->d_steps = (int)v[1]; h->batch_size = (int)v[2];
    h->cfg = (dcgan_config){.size = (int)v[3], .nc = (int)v[4], .nz = (int)v[5], .ngf = (int)v[6], .ndf = (int)v[7]};
    h->loss = (gan_loss)gan_loss_parse(loss);
    h->optimizer = strcmp(opt, "adam") ? OPT_RMSPROP : OPT_ADAM;
    // The precision (absent in the state of a run written before bf16: fp32).
    const char *prec = st_meta_get(f, "precision");
    if (prec && !strcmp(prec, "bf16")) h->precision = DTYPE_BF16;
    else if (prec && strcmp(prec, "fp32"))
        return path_error(err, errlen, path, "metadata 'precision' is '%s' (expected fp32 or bf16)", prec);
    h->sync_bn = st_meta_get(f, "sync_bn") && !strcmp(st_meta_get(f, "sync_bn"), "1");   // absent before it existed
    *total_iters = v[8];
    return 0;
}

// The data, schedule and FID of the saved run; what the command line gave wins. -1: out of memory.
static int read_schedule(const st_file *f, run_options *o, long total_iters) {
    const char *every = st_meta_get(f, "fid_every"), *count = st_meta_get(f, "fid_count");
    if (!o->iters && !o->epochs) o->iters = total_iters;
    // FID during training (absent in runs saved before it existed).
    if (o->fid_every < 0) o->fid_every = every ? atol(every) : 0;
    if (o->fid_count <= 0 && count && atol(count) > 0) o->fid_count = atol(count);
    return !(o->dataset = keep_string(st_meta_get(f, "dataset"))) || keep_given(&o->data_path, f, "data") ||
           keep_given(&o->classes, f, "classes") || keep_given(&o->inception, f, "inception") ? -1 : 0;
}

// The classes of a conditional run (absent in the state of an unconditional run written before them).
static int read_classes(const st_file *f, run_options *o, train_hparams *h, const char *path, char *err, size_t errlen) {
    long K = 0;
    if (st_meta_get(f, "nclasses") && get_long(f, "nclasses", &K, path, err, errlen)) return -1;
    if (K < 0 || K > DCGAN_MAX_CLASSES)
        return path_error(err, errlen, path, "metadata 'nclasses' is %ld (expected 0..%d)", K, DCGAN_MAX_CLASSES);
    if (K == 0) return 0;
    h->cfg.nclasses = (int)K;
    o->conditional = 1;
    o->nclasses = (int)K;
    if (!(o->class_names = keep((size_t)K * sizeof *o->class_names)))
        return path_error(err, errlen, path, "out of memory reading the class names");
    for (long k = 0; k < K; k++) {
        char key[32];
        snprintf(key, sizeof key, CKPT_CLASS_NAME_KEY "%ld", k);
        const char *name = st_meta_get(f, key);
        if (!name) return path_error(err, errlen, path, "metadata '%s' is missing", key);
        if (!(o->class_names[k] = keep_string(name)))
            return path_error(err, errlen, path, "out of memory reading the class names");
    }
    return 0;
}

int run_load_options(const char *dir, run_options *o, char *err, size_t errlen) {
    char path[4096];
    path_in(path, sizeof path, dir, "train_state.safetensors");
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    long total_iters = 0;
    int rc = read_hparams(&f, &o->hp, &total_iters, path, err, errlen);
    if (!rc && read_schedule(&f, o, total_iters)) rc = path_error(err, errlen, path, "out of memory reading the options");
    if (!rc) rc = read_classes(&f, o, &o->hp, path, err, errlen);
    st_free(&f);
    return rc;
}

int run_load_checkpoint(trainer *t, const char *dir, run_position *pos, char *err, size_t errlen) {
    char path[4096], why[512];
    dcgan_net *nets[CK_STATE] = {&t->G, &t->D, &t->G_ema};
    long net_iter[CK_STATE] = {-1, -1, -1};
    for (int k = 0; k < (t->hp.ema > 0 ? 3 : 2); k++) {
        st_file f;
        path_in(path, sizeof path, dir, ckpt_files[k]);
        if (st_read(path, &f, err, errlen)) return -1;
        int rc = ckpt_load_tensors(nets[k], &f, "", why, sizeof why);
        const char *iter = st_meta_get(&f, "iteration");
        if (iter) net_iter[k] = atol(iter);
        st_free(&f);
        if (rc) return path_error(err, errlen, path, "%s", why);
    }
    path_in(path, sizeof path, dir, ckpt_files[CK_STATE]);
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    long it = 0, ep = 0, bp = 0, sg = 0, sd = 0, no = 0;
    int rc = get_long(&f, "iteration", &it, path, err, errlen) || get_long(&f, "epoch", &ep, path, err, errlen) ||
             get_long(&f, "batch_pos", &bp, path, err, errlen) || get_long(&f, "steps_g", &sg, path, err, errlen) ||
             get_long(&f, "steps_d", &sd, path, err, errlen) || get_long(&f, "noise_offset", &no, path, err, errlen);
    for (int k = 0; k < CK_STATE && !rc; k++)
        if (net_iter[k] >= 0 && net_iter[k] != it) {
            rc = set_error(err, errlen, "%s/%s is from iteration %ld, %s from iteration %ld: the checkpoint is incomplete",
                           dir, ckpt_files[k], net_iter[k], ckpt_files[CK_STATE], it);
        }
    int nstate = t->hp.optimizer == OPT_ADAM ? 2 : 1;
    for (int k = 0; k < 2 && !rc; k++)
        for (int s = 0; s < nstate && !rc; s++) {
            char name[32];
            snprintf(name, sizeof name, "%s.optim.%d", k ? "D" : "G", s);
            const st_tensor *st = st_find(&f, name);
            if (!st || st->dtype != ST_F32 || st->nbytes != nets[k]->nparams * sizeof(float)) {
                rc = path_error(err, errlen, path, "tensor '%s' is missing or has the wrong size", name);
            } else {
                t->be->upload(t->be, k ? t->opt_d[s] : t->opt_g[s], st->data, st->nbytes);
            }
        }
    if (!rc) {
        pos->iter = it; pos->epoch = ep; pos->batch_pos = bp; pos->noise_offset = (uint64_t)no;
        const char *co = st_meta_get(&f, "class_offset");
        pos->class_offset = co ? strtoull(co, NULL, 10) : 0;
        pos->steps_g = sg; pos->steps_d = sd;
        const char *ranks = st_meta_get(&f, "ranks");
        pos->ranks = ranks ? (int)strtol(ranks, NULL, 10) : 1;
        if (pos->ranks < 1) pos->ranks = 1;
    }
    st_free(&f);
    return rc ? -1 : 0;
}

// The iteration in a checkpoint file's metadata; -1 when the file is absent, unreadable or has none.
static long file_iteration(const char *path) {
    st_file f;
    char why[512];
    if (access(path, F_OK) || st_read(path, &f, why, sizeof why)) return -1;
    const char *v = st_meta_get(&f, "iteration");
    long it = v ? atol(v) : -1;
    st_free(&f);
    return it;
}

typedef struct { long iter, pid; } staged_state;

// A staged train_state of the wanted iteration whose writer is gone: its pid names the set.
static int find_staged_state(const char *dir, const char *name, void *ctx, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    staged_state *s = ctx;
    const size_t n = strlen(ckpt_files[CK_STATE]);
    long pid = temp_file_pid(name);
    if (strncmp(name, ckpt_files[CK_STATE], n) || name[n] != '.' || pid < 0 || temp_writer_alive(pid)) return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (file_iteration(path) != s->iter) return 0;
    s->pid = pid;
    return 1;
}

int run_complete_checkpoint(const char *dir, int *completed, char *err, size_t errlen) {
    char path[4096], staged[4200];
    *completed = 0;
    path_in(path, sizeof path, dir, ckpt_files[CK_G]);
    staged_state s = {.iter = file_iteration(path), .pid = -1};
    path_in(path, sizeof path, dir, ckpt_files[CK_STATE]);
    if (s.iter < 0 || file_iteration(path) == s.iter) return 0;
    if (list_dir(dir, find_staged_state, &s, err, errlen)) return -1;
    if (s.pid < 0) return 0;   // nothing to complete it with: loading says which files disagree
    for (int k = CK_D; k < CK_FILES; k++) {
        path_in(path, sizeof path, dir, ckpt_files[k]);
        temp_path_of(staged, sizeof staged, path, s.pid);
        if (access(staged, F_OK)) continue;   // committed before the cut
        if (rename(staged, path)) return path_error(err, errlen, staged, "cannot rename: %s", strerror(errno));
    }
    *completed = 1;
    return dir_sync(dir, err, errlen);
}
