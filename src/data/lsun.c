// LSUN as released: one LMDB database per class and split (bedroom_train_lmdb, ...), values
// are encoded images (WebP or JPEG, told apart by their first bytes). Databases are opened
// read-only without a lock file, so datasets on read-only storage work.
#include "dcgan/error.h"
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DBS 64

typedef struct {
    char dir[4096];
    MDB_env *env;
    MDB_txn *txn;       // held open: the values below point into the database's map
} lsun_db;

typedef struct {
    lsun_db db[MAX_DBS];
    int ndb;
    MDB_val *keys, *vals;   // [n]
    uint8_t *dbi;           // [n] database of each item
    int n;
} lsun_ctx;

static int lsun_load(void *ctx, int i, uint8_t *dst, int size, int nc, char *why, size_t whylen) {
    lsun_ctx *l = ctx;
    return decode_preprocess(l->vals[i].mv_data, l->vals[i].mv_size, dst, size, nc, why, whylen);
}

static void lsun_name(void *ctx, int i, char *out, size_t n) {
    lsun_ctx *l = ctx;
    char key[65];
    size_t k = l->keys[i].mv_size < 64 ? l->keys[i].mv_size : 64;
    const char *p = l->keys[i].mv_data;
    for (size_t j = 0; j < k; j++) key[j] = p[j] >= 32 && p[j] < 127 ? p[j] : '?';
    key[k] = '\0';
    snprintf(out, n, "%s:%s", l->db[l->dbi[i]].dir, key);
}

static void lsun_close(void *ctx) {
    lsun_ctx *l = ctx;
    if (!l) return;
    for (int d = 0; d < l->ndb; d++) {
        if (l->db[d].txn) mdb_txn_abort(l->db[d].txn);
        if (l->db[d].env) mdb_env_close(l->db[d].env);
    }
    free(l->keys);
    free(l->vals);
    free(l->dbi);
    free(l);
}

static int is_db_dir(const char *dir) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

// "bedroom_train_lmdb" -> "bedroom"
static void class_of(char *out, size_t n, const char *dir) {
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    snprintf(out, n, "%s", base);
    const char *suffixes[] = {"_train_lmdb", "_val_lmdb", "_lmdb"};
    for (int s = 0; s < 3; s++) {
        size_t L = strlen(out), S = strlen(suffixes[s]);
        if (L > S && !strcmp(out + L - S, suffixes[s])) { out[L - S] = '\0'; break; }
    }
}

// Opens one database and appends its entries.
static int open_db(lsun_ctx *l, const char *dir, uint64_t *fp, char *err, size_t errlen) {
    lsun_db *db = &l->db[l->ndb];
    snprintf(db->dir, sizeof db->dir, "%s", dir);
    int rc = mdb_env_create(&db->env);
    if (!rc) rc = mdb_env_set_maxreaders(db->env, 1);
    if (!rc) rc = mdb_env_open(db->env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0);
    if (!rc) rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &db->txn);
    MDB_dbi dbi = 0;
    if (!rc) rc = mdb_dbi_open(db->txn, NULL, 0, &dbi);
    MDB_stat ms;
    if (!rc) rc = mdb_stat(db->txn, dbi, &ms);
    l->ndb++;   // counted from here on, so lsun_close releases it
    if (rc) return set_error(err, errlen, "%s: cannot read LSUN database: %s", dir, mdb_strerror(rc));
    size_t add = ms.ms_entries, total = (size_t)l->n + add;
    if (total > 0x7fffffff) return set_error(err, errlen, "%s: too many entries", dir);
    MDB_val *k = realloc(l->keys, (total + 1) * sizeof *k);
    if (k) l->keys = k;
    MDB_val *v = realloc(l->vals, (total + 1) * sizeof *v);
    if (v) l->vals = v;
    uint8_t *b = realloc(l->dbi, total + 1);
    if (b) l->dbi = b;
    if (!k || !v || !b) return set_error(err, errlen, "%s: out of memory for %zu entries", dir, add);
    MDB_cursor *cur = NULL;
    rc = mdb_cursor_open(db->txn, dbi, &cur);
    MDB_val key, val;
    int op = MDB_FIRST;
    while (!rc && (size_t)l->n < total && !(rc = mdb_cursor_get(cur, &key, &val, op))) {
        l->keys[l->n] = key;
        l->vals[l->n] = val;
        l->dbi[l->n] = (uint8_t)(l->ndb - 1);
        l->n++;
        op = MDB_NEXT;
    }
    if (cur) mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return set_error(err, errlen, "%s: cannot read LSUN database: %s", dir, mdb_strerror(rc));
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    if (stat(p, &st) == 0) {
        int64_t sz = st.st_size, mt = st.st_mtime;
        *fp = fnv1a(*fp, dir, strlen(dir) + 1);
        *fp = fnv1a(*fp, &sz, sizeof sz);
        *fp = fnv1a(*fp, &mt, sizeof mt);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// The database directories to read and their class names.
static int pick_dbs(const char *path, const char *classes, char dirs[][4096], char names[][256],
                    int *ndb, char *err, size_t errlen) {
    *ndb = 0;
    if (is_db_dir(path)) {
        if (classes && *classes)
            return set_error(err, errlen, "%s: is one LSUN database; --classes selects databases "
                        "inside a directory of <class>_train_lmdb directories", path);
        snprintf(dirs[0], 4096, "%s", path);
        class_of(names[0], 256, path);
        *ndb = 1;
        return 0;
    }
    if (classes && *classes) {
        const char *p = classes;
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= 200) return set_error(err, errlen, "--classes: bad list '%s'", classes);
            if (*ndb == MAX_DBS) return set_error(err, errlen, "--classes: at most %d classes", MAX_DBS);
            snprintf(names[*ndb], 256, "%.*s", (int)len, p);
            snprintf(dirs[*ndb], 4096, "%s/%s_train_lmdb", path, names[*ndb]);
            if (!is_db_dir(dirs[*ndb])) {
                snprintf(dirs[*ndb], 4096, "%s/%s_lmdb", path, names[*ndb]);
                if (!is_db_dir(dirs[*ndb]))
                    return set_error(err, errlen, "%s: no LSUN database for class '%s' (expected "
                                "%s_train_lmdb/data.mdb)", path, names[*ndb], names[*ndb]);
            }
            (*ndb)++;
            p += len;
            if (*p == ',') p++;
        }
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) return set_error(err, errlen, "%s: cannot read directory: %s", path, strerror(errno));
    char *found[MAX_DBS];
    int nf = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nf < MAX_DBS) {
        size_t L = strlen(de->d_name);
        if (de->d_name[0] == '.' || L < 5 || strcmp(de->d_name + L - 5, "_lmdb")) continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        if (is_db_dir(p) && (found[nf] = strdup(de->d_name))) nf++;
    }
    closedir(d);
    qsort(found, (size_t)nf, sizeof *found, cmp_str);
    for (int i = 0; i < nf; i++) {
        snprintf(dirs[i], 4096, "%s/%s", path, found[i]);
        class_of(names[i], 256, found[i]);
        free(found[i]);
    }
    *ndb = nf;
    if (nf == 0)
        return set_error(err, errlen, "%s: no LSUN database found (expected data.mdb here, or "
                    "<class>_train_lmdb directories)", path);
    return 0;
}

int lsun_open(data_source *src, const char *path, const char *classes, char *err, size_t errlen) {
    if (source_begin(src, "lsun", "entries", path, "an LMDB directory", err, errlen)) return -1;
    static char dirs[MAX_DBS][4096];
    static char names[MAX_DBS][256];
    int ndb = 0;
    if (pick_dbs(path, classes, dirs, names, &ndb, err, errlen)) return -1;
    lsun_ctx *l = calloc(1, sizeof *l);
    if (!l) return set_error(err, errlen, "out of memory");
    src->ctx = l;
    src->close = lsun_close;
    src->load = lsun_load;
    src->name = lsun_name;
    uint64_t fp = FNV_INIT;
    int rc = 0;
    for (int d = 0; d < ndb && !rc; d++) rc = open_db(l, dirs[d], &fp, err, errlen);
    if (!rc && l->n == 0) rc = set_error(err, errlen, "%s: the LSUN database holds no images", path);
    src->n = l->n;
    src->fingerprint = fp;
    if (!rc) {
        const char *cls[MAX_DBS];
        for (int d = 0; d < ndb; d++) cls[d] = names[d];
        src->labels = malloc((size_t)l->n * sizeof *src->labels);
        if (!src->labels || source_set_class_names(src, cls, ndb))
            rc = set_error(err, errlen, "out of memory");
        for (int i = 0; !rc && i < l->n; i++) src->labels[i] = l->dbi[i];
    }
    if (rc) source_close(src);
    return rc;
}
