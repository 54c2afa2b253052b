// The ranks of a run: MPI when a launcher started several processes (and the build has MPI),
// one process otherwise; the host collectives, and the watchdog that turns a hang into an exit.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/clock.h"
#include "dcgan/comm.h"
#ifdef DCGAN_HAVE_MPI
#include <mpi.h>
#endif

int comm_have_mpi(void) {
#ifdef DCGAN_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

// The variables launchers set for the processes they start: Open MPI's mpirun, the PMI of
// MPICH / Intel MPI / Slurm (srun --mpi=pmi2), and Slurm's own count of a step's tasks.
static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "MV2_COMM_WORLD_SIZE"};
// Set when an MPI process manager runs the job (PMIx sets a rank but no size).
static const char *const mpi_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_SIZE"};

int comm_launcher_size(const char **var) {
    int n = 1;
    if (var) *var = NULL;
    for (size_t i = 0; i < sizeof size_vars / sizeof *size_vars; i++) {
        const char *v = getenv(size_vars[i]);
        long x = v ? strtol(v, NULL, 10) : 0;
        if (x > n) {
            n = (int)x;
            if (var) *var = size_vars[i];
        }
    }
    return n;
}

static int mpi_launched(void) {
    for (size_t i = 0; i < sizeof mpi_vars / sizeof *mpi_vars; i++)
        if (getenv(mpi_vars[i])) return 1;
    return 0;
}

// --- the watchdog -----------------------------------------------------------------------------------

static struct {
    pthread_mutex_t lock;
    pthread_t thread;
    int started, armed, rank, size;
    double last, limit, slowest;
    long iteration;
} dog = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *watchdog(void *arg) {
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&dog.lock);
        double now = monotonic_seconds(), limit = dog.limit > 10 * dog.slowest ? dog.limit : 10 * dog.slowest;
        int fire = dog.armed && now - dog.last > limit;
        long it = dog.iteration;
        pthread_mutex_unlock(&dog.lock);
        if (fire) {
            fprintf(stderr, "error: rank %d of %d: no progress for %.0f s after iteration %ld: another rank has died or"
                    " hangs (DCGAN_COMM_TIMEOUT sets the limit); stopping. The last checkpoint is intact.\n",
                    dog.rank, dog.size, limit, it);
            fflush(stderr);
            _exit(3);
        }
    }
    return NULL;
}

void comm_beat(dcgan_comm *c, long iteration) {
    if (c->size < 2) return;
    pthread_mutex_lock(&dog.lock);
    double now = monotonic_seconds();
    if (dog.armed && now - dog.last > dog.slowest) dog.slowest = now - dog.last;
    dog.last = now;
    dog.iteration = iteration;
    dog.armed = 1;
    pthread_mutex_unlock(&dog.lock);
}

void comm_watch(dcgan_comm *c, int on) {
    if (c->size < 2) return;
    pthread_mutex_lock(&dog.lock);
    dog.armed = on;
    dog.last = monotonic_seconds();
    pthread_mutex_unlock(&dog.lock);
}

static void start_watchdog(const dcgan_comm *c) {
    const char *t = getenv("DCGAN_COMM_TIMEOUT");
    dog.limit = t && atof(t) > 0 ? atof(t) : 60.0;
    dog.rank = c->rank;
    dog.size = c->size;
    if (!dog.started && pthread_create(&dog.thread, NULL, watchdog, NULL) == 0) {
        pthread_detach(dog.thread);
        dog.started = 1;
    }
}

// --- MPI --------------------------------------------------------------------------------------------

#ifdef DCGAN_HAVE_MPI
// A failed MPI call (MPI_ERRORS_RETURN is set): one line, then the whole job is aborted.
static void mpi_check(int rc, const char *what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0, rank = -1;
    MPI_Error_string(rc, msg, &len);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "error: rank %d: %s failed: %s (another rank may have died); stopping\n", rank, what, msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 3);
    _exit(3);
}
#define MPI_OK(call) mpi_check((call), #call)
#endif

int comm_init(dcgan_comm *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->size = c->local_size = 1;
    const char *var = NULL;
    int launched = comm_launcher_size(&var);
#ifdef DCGAN_HAVE_MPI
    if (mpi_launched()) {
        int inited = 0, finalized = 0;
        MPI_Initialized(&inited);
        MPI_Finalized(&finalized);
        if (finalized) return set_error(err, errlen, "MPI was already finalized in this process");
        if (!inited) {
            int provided = 0;
            if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                return set_error(err, errlen, "MPI_Init failed");
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &c->size);
        MPI_Comm local;
        MPI_OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local));
        MPI_Comm_rank(local, &c->local_rank);
        MPI_Comm_size(local, &c->local_size);
        MPI_Comm_free(&local);
        c->mpi = 1;
        if (launched > 1 && c->size != launched)
            return set_error(err, errlen, "%s=%d says %d processes were started, but MPI joined %d: the launcher"
                             " set up no MPI process manager for them (srun: --mpi=pmix or --mpi=pmi2)", var, launched,
                             launched, c->size);
        if (c->size > 1) start_watchdog(c);
        return 0;
    }
    if (launched > 1)
        return set_error(err, errlen, "%s=%d: a launcher started %d processes but set up no MPI process manager"
                         " (srun: --mpi=pmix or --mpi=pmi2); they would train %d independent runs", var, launched,
                         launched, launched);
#else
    (void)mpi_launched;
    (void)start_watchdog;
    if (launched > 1)
        return set_error(err, errlen, "%s=%d: a launcher started %d processes, but this dcgan was built without MPI,"
                         " so they would train %d independent runs; install libopenmpi-dev and rebuild"
                         " (cmake -DDCGAN_MPI=ON), or run one process", var, launched, launched, launched);
#endif
    return 0;
}

void comm_finalize(dcgan_comm *c) {
    if (c->size > 1) comm_watch(c, 0);
#ifdef DCGAN_HAVE_MPI
    if (c->mpi) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
    }
#endif
    c->mpi = 0;
}

void comm_allreduce(dcgan_comm *c, void *buf, size_t n, int f64) {
#ifdef DCGAN_HAVE_MPI
    if (!c->mpi) return;
    double t0 = monotonic_seconds();
    const size_t chunk = (size_t)1 << 30, elem = f64 ? sizeof(double) : sizeof(float);
    for (size_t done = 0; done < n; done += chunk) {
        size_t k = n - done < chunk ? n - done : chunk;
        MPI_OK(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + done * elem, (int)k, f64 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM,
                             MPI_COMM_WORLD));
    }
    c->allreduce_s += monotonic_seconds() - t0;
    c->allreduce_calls++;
#else
    (void)c; (void)buf; (void)n; (void)f64;
#endif
}

void comm_bcast(const dcgan_comm *c, void *buf, size_t bytes, int root) {
#ifdef DCGAN_HAVE_MPI
    if (c->mpi) MPI_OK(MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD));
#else
    (void)c; (void)buf; (void)bytes; (void)root;
#endif
}

int comm_max(const dcgan_comm *c, int v) {
#ifdef DCGAN_HAVE_MPI
    if (c->mpi) MPI_OK(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
#else
    (void)c;
#endif
    return v;
}

void comm_allgather_u64(const dcgan_comm *c, uint64_t v, uint64_t *all) {
#ifdef DCGAN_HAVE_MPI
    if (c->mpi) {
        MPI_OK(MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD));
        return;
    }
#else
    (void)c;
#endif
    all[0] = v;
}

void comm_barrier(const dcgan_comm *c) {
#ifdef DCGAN_HAVE_MPI
    if (c->mpi) MPI_OK(MPI_Barrier(MPI_COMM_WORLD));
#else
    (void)c;
#endif
}
