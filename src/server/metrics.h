// /stats (JSON) and /metrics (Prometheus text exposition) renderings of the same counters.
#pragma once

#include <string>

namespace holdfast::server {

class Server;

std::string renderStatsJson(Server& server);
std::string renderMetrics(Server& server);

} // namespace holdfast::server
