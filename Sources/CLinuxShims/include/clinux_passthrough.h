#ifndef CLINUX_PASSTHROUGH_H
#define CLINUX_PASSTHROUGH_H
/* SG_IO and NVMe admin passthrough (filled in by the firmware-erase work). */
#endif
