#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include "CLinuxShims.h"

const int clinux_O_DIRECT = O_DIRECT;
const int clinux_O_NOATIME = O_NOATIME;
const int clinux_O_EXCL = O_EXCL;

int clinux_blkgetsize64(int fd, uint64_t *bytes) { return ioctl(fd, BLKGETSIZE64, bytes); }
int clinux_blksszget(int fd, int *size) { return ioctl(fd, BLKSSZGET, size); }
int clinux_blkpbszget(int fd, unsigned int *size) { return ioctl(fd, BLKPBSZGET, size); }
int clinux_blkroget(int fd, int *ro) { return ioctl(fd, BLKROGET, ro); }
int clinux_blkflsbuf(int fd) { return ioctl(fd, BLKFLSBUF, 0); }
int clinux_blkdiscard(int fd, uint64_t off, uint64_t len) { uint64_t r[2] = { off, len }; return ioctl(fd, BLKDISCARD, r); }
int clinux_blkzeroout(int fd, uint64_t off, uint64_t len) { uint64_t r[2] = { off, len }; return ioctl(fd, BLKZEROOUT, r); }
int clinux_blksecdiscard(int fd, uint64_t off, uint64_t len) { uint64_t r[2] = { off, len }; return ioctl(fd, BLKSECDISCARD, r); }
int clinux_loop_ctl_get_free(int control_fd) { return ioctl(control_fd, LOOP_CTL_GET_FREE); }
int clinux_loop_ctl_remove(int control_fd, int index) { return ioctl(control_fd, LOOP_CTL_REMOVE, index); }
int clinux_loop_ctl_add(int control_fd, int index) { return ioctl(control_fd, LOOP_CTL_ADD, index); }
