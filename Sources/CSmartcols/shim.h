#include <libsmartcols/libsmartcols.h>
