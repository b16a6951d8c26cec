#ifndef ASHRAI_CLIBPQ_SHIM_H
#define ASHRAI_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
