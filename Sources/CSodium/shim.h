#ifndef ASHRAI_CSODIUM_SHIM_H
#define ASHRAI_CSODIUM_SHIM_H
#include <sodium.h>
#endif
