// A run directory that went through crashes, full disks and resumes, compared with the directory
// of the same run done in one go (test_crash_resume, test_full_disk).
#ifndef DCGAN_RUN_DIR_CHECK_H
#define DCGAN_RUN_DIR_CHECK_H

// The run both tests train: a small model on the synthetic dataset, a checkpoint every 3
// iterations, a sample grid every 10. --iters and --out follow CHECK_RUN_NEW, --iters and --resume
// follow CHECK_RUN_RESUME (a resumed run keeps the model and training settings).
#define CHECK_RUN_OUTPUT "--device cpu --sample-every 10 --ckpt-every 3 --log-every 1000"
#define CHECK_RUN_NEW "train --dataset synthetic --batch-size 16 --ngf 8 --ndf 8 --nz 16 --seed 3 " CHECK_RUN_OUTPUT
#define CHECK_RUN_RESUME "train " CHECK_RUN_OUTPUT

// Keeps LeakSanitizer (sanitizer builds) from listing the suppressions it used on the stderr of
// the commands the tests run: they read that stderr for the one line a command prints.
void quiet_leak_report(void);
// Trains the reference run into dir (exit 0 checked); returns its wall time in seconds.
double train_reference(const char *dir, long iters);
// 1 when dir holds a name containing ".tmp." (a temporary file); prints the first.
int has_temp_files(const char *dir);
// Compares run with the reference ref, counting failures (test_util.h's CHECK): netG, netD and
// train_state tensors bit for bit; metrics.jsonl holding iterations 1..iters once each, in order,
// every field but images_per_s and time_s byte for byte the reference's; the loss scalars that
// TensorBoard's EventAccumulator reads from the directory equal to the reference's, each step once
// (skipped with a note without the tensorboard package); `dcgan plot` without a warning; one
// events file and otherwise the reference's file names, sample grids byte for byte, no temporary
// file. Returns 1 when the TensorBoard part ran, 0 when it was skipped.
int check_same_run(const char *ref, const char *run, long iters);

#endif
