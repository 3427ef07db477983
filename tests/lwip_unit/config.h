/* lwIP's unit tests include <config.h> first (upstream's check port supplies it). The runner,
 * lwip_unittests.c, uses lwip_stats and MEMP_MAX without including their headers itself. */
#include "lwip/opt.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
