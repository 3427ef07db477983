// One machine-readable stats line for the echo examples (tests parse it):
// "stats key=value key=value ...".
#ifndef GRPC_BYPASS_EXAMPLES_ECHO_STATS_LINE_H
#define GRPC_BYPASS_EXAMPLES_ECHO_STATS_LINE_H

#include <string>

#include "examples/echo/echo_server.h"
#include "transport/lwip/stack.h"

namespace grpc_bypass::examples {

std::string StatsLine(Stack& stack, const EchoCounters& echo);

}  // namespace grpc_bypass::examples

#endif  // GRPC_BYPASS_EXAMPLES_ECHO_STATS_LINE_H
