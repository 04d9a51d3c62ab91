#ifndef CLINUX_PASSTHROUGH_H
#define CLINUX_PASSTHROUGH_H
/*
 * SG_IO (scsi/sg.h) and NVMe admin passthrough (linux/nvme_ioctl.h).
 * Swift never sees the kernel structs: it fills these flat mirrors, the C side copies them
 * into the real structs (whose layouts passthrough.c static-asserts) and issues the ioctl.
 */
#include <stdint.h>

/* Data direction of an SG_IO request; mapped to SG_DXFER_NONE/TO_DEV/FROM_DEV in C. */
enum {
    CLINUX_SG_DIR_NONE = 0,
    CLINUX_SG_DIR_TO_DEVICE = 1,
    CLINUX_SG_DIR_FROM_DEVICE = 2,
};

/* The output half of sg_io_hdr_t, copied out after the ioctl. */
struct clinux_sg_outcome {
    uint8_t status;          /* SCSI status (02h CHECK CONDITION) */
    uint8_t masked_status;
    uint8_t msg_status;
    uint8_t sb_len_wr;       /* sense bytes written */
    uint16_t host_status;    /* 03h DID_TIME_OUT ... */
    uint16_t driver_status;  /* 08h DRIVER_SENSE ... */
    int32_t resid;
    uint32_t duration_ms;
    uint32_t info;
};

/*
 * One SG_IO request. cmd_len 6..16, timeout in milliseconds (sg.h: "unit: millisec").
 * Returns ioctl's result (0, or -1 with errno set); the SCSI outcome is in *out.
 */
int clinux_sg_io(int fd, const uint8_t *cdb, uint8_t cdb_len, int direction,
                 void *data, uint32_t data_len, uint8_t *sense, uint8_t sense_capacity,
                 uint32_t timeout_ms, struct clinux_sg_outcome *out);

/* Mirror of struct nvme_passthru_cmd (72 bytes); offsets asserted equal in passthrough.c. */
struct clinux_nvme_admin_cmd {
    uint8_t opcode;
    uint8_t flags;
    uint16_t rsvd1;
    uint32_t nsid;
    uint32_t cdw2;
    uint32_t cdw3;
    uint64_t metadata;
    uint64_t addr;
    uint32_t metadata_len;
    uint32_t data_len;
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
    uint32_t timeout_ms;
    uint32_t result;
};

/*
 * NVME_IOCTL_ADMIN_CMD. `data` (data_len bytes) becomes cmd->addr. Returns -1 with errno on
 * a transport error, 0 on success, or the NVMe status field (>0, SCT<<8|SC, plus DNR/MORE)
 * when the controller completed the command with an error. cmd->result holds CQE dword 0.
 */
int clinux_nvme_admin(int fd, struct clinux_nvme_admin_cmd *cmd, void *data);

/* NVME_IOCTL_ID: the namespace ID behind a namespace block device (-1 with errno otherwise). */
int clinux_nvme_namespace_id(int fd);

#endif
