#ifndef CLINUXSHIMS_H
#define CLINUXSHIMS_H
/*
 * The only C the project writes: constants and ioctls that Swift cannot import
 * (macros built with _IOR/_IOW, _GNU_SOURCE-only flags). Every function returns what the
 * kernel returns (0 or -1 with errno set); Swift wraps each one exactly once, in DeviceKit.
 */
#include <stdint.h>

/* Exported as const so Swift imports them as `let` (a plain extern int is a Swift 6 error). */
extern const int clinux_O_DIRECT;
extern const int clinux_O_NOATIME;
extern const int clinux_O_EXCL;

/* Block device ioctls (linux/fs.h). */
int clinux_blkgetsize64(int fd, uint64_t *bytes);
int clinux_blksszget(int fd, int *logical_sector_size);
int clinux_blkpbszget(int fd, unsigned int *physical_sector_size);
int clinux_blkroget(int fd, int *read_only);
int clinux_blkflsbuf(int fd);
int clinux_blkdiscard(int fd, uint64_t offset, uint64_t length);
int clinux_blkzeroout(int fd, uint64_t offset, uint64_t length);
int clinux_blksecdiscard(int fd, uint64_t offset, uint64_t length);

/* Loop device control (linux/loop.h), used by the demo and tests only on devices they create. */
int clinux_loop_ctl_get_free(int control_fd);
int clinux_loop_ctl_remove(int control_fd, int index);
int clinux_loop_ctl_add(int control_fd, int index);

#include "clinux_passthrough.h"

#endif
