#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <scsi/sg.h>
#include <linux/nvme_ioctl.h>
#include "CLinuxShims.h"

/* The mirror must match the kernel's ioctl struct byte for byte (nvme_ioctl.h). */
_Static_assert(sizeof(struct nvme_passthru_cmd) == 72, "nvme_passthru_cmd is 72 bytes");
_Static_assert(sizeof(struct clinux_nvme_admin_cmd) == sizeof(struct nvme_passthru_cmd), "mirror size");
#define SAME_OFFSET(f) _Static_assert(offsetof(struct clinux_nvme_admin_cmd, f) == offsetof(struct nvme_passthru_cmd, f), "offset of " #f)
SAME_OFFSET(opcode); SAME_OFFSET(flags); SAME_OFFSET(nsid); SAME_OFFSET(cdw2); SAME_OFFSET(cdw3);
SAME_OFFSET(metadata); SAME_OFFSET(addr); SAME_OFFSET(metadata_len); SAME_OFFSET(data_len);
SAME_OFFSET(cdw10); SAME_OFFSET(cdw11); SAME_OFFSET(cdw12); SAME_OFFSET(cdw13); SAME_OFFSET(cdw14);
SAME_OFFSET(cdw15); SAME_OFFSET(timeout_ms); SAME_OFFSET(result);
_Static_assert(offsetof(struct nvme_passthru_cmd, addr) == 24, "addr@24");
_Static_assert(offsetof(struct nvme_passthru_cmd, cdw10) == 40, "cdw10@40");
_Static_assert(offsetof(struct nvme_passthru_cmd, timeout_ms) == 64, "timeout_ms@64");
_Static_assert(offsetof(struct nvme_passthru_cmd, result) == 68, "result@68");

/* sg_io_hdr_t fields we set or read (x86_64 / aarch64 LP64 layout, sg.h). */
_Static_assert(sizeof(sg_io_hdr_t) == 88, "sg_io_hdr_t is 88 bytes on LP64");
_Static_assert(offsetof(sg_io_hdr_t, interface_id) == 0, "interface_id@0");
_Static_assert(offsetof(sg_io_hdr_t, dxfer_direction) == 4, "dxfer_direction@4");
_Static_assert(offsetof(sg_io_hdr_t, cmd_len) == 8, "cmd_len@8");
_Static_assert(offsetof(sg_io_hdr_t, mx_sb_len) == 9, "mx_sb_len@9");
_Static_assert(offsetof(sg_io_hdr_t, dxfer_len) == 12, "dxfer_len@12");
_Static_assert(offsetof(sg_io_hdr_t, dxferp) == 16, "dxferp@16");
_Static_assert(offsetof(sg_io_hdr_t, cmdp) == 24, "cmdp@24");
_Static_assert(offsetof(sg_io_hdr_t, sbp) == 32, "sbp@32");
_Static_assert(offsetof(sg_io_hdr_t, timeout) == 40, "timeout@40");
_Static_assert(offsetof(sg_io_hdr_t, status) == 64, "status@64");
_Static_assert(offsetof(sg_io_hdr_t, sb_len_wr) == 67, "sb_len_wr@67");
_Static_assert(offsetof(sg_io_hdr_t, host_status) == 68, "host_status@68");
_Static_assert(offsetof(sg_io_hdr_t, driver_status) == 70, "driver_status@70");
_Static_assert(SG_DXFER_NONE == -1 && SG_DXFER_TO_DEV == -2 && SG_DXFER_FROM_DEV == -3, "sg.h directions");

int clinux_sg_io(int fd, const uint8_t *cdb, uint8_t cdb_len, int direction,
                 void *data, uint32_t data_len, uint8_t *sense, uint8_t sense_capacity,
                 uint32_t timeout_ms, struct clinux_sg_outcome *out)
{
    sg_io_hdr_t io;
    memset(&io, 0, sizeof(io));
    io.interface_id = 'S';
    switch (direction) {
    case CLINUX_SG_DIR_TO_DEVICE: io.dxfer_direction = SG_DXFER_TO_DEV; break;
    case CLINUX_SG_DIR_FROM_DEVICE: io.dxfer_direction = SG_DXFER_FROM_DEV; break;
    default: io.dxfer_direction = SG_DXFER_NONE; break;
    }
    io.cmd_len = cdb_len;
    io.cmdp = (unsigned char *)cdb;
    io.mx_sb_len = sense_capacity;
    io.sbp = sense;
    io.dxfer_len = data_len;
    io.dxferp = data_len ? data : NULL;
    io.timeout = timeout_ms;
    int rc = ioctl(fd, SG_IO, &io);
    if (out) {
        out->status = io.status;
        out->masked_status = io.masked_status;
        out->msg_status = io.msg_status;
        out->sb_len_wr = io.sb_len_wr;
        out->host_status = io.host_status;
        out->driver_status = io.driver_status;
        out->resid = io.resid;
        out->duration_ms = io.duration;
        out->info = io.info;
    }
    return rc;
}

int clinux_nvme_admin(int fd, struct clinux_nvme_admin_cmd *cmd, void *data)
{
    struct nvme_passthru_cmd pt;
    memcpy(&pt, cmd, sizeof(pt));
    pt.addr = (uint64_t)(uintptr_t)data;
    int rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &pt);
    cmd->result = pt.result;
    return rc;
}

int clinux_nvme_namespace_id(int fd)
{
    return ioctl(fd, NVME_IOCTL_ID);
}
