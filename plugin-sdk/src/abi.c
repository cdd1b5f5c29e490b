/* The ABI is a header only; this file lets SwiftPM build it as a C module. */
#include "herald_plugin.h"
