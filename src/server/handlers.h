// Request handlers for the two sockets. Each answers (or holds) the request it is given.
#pragma once

#include "http/query.h"

namespace holdfast::server {

class Server;
class Connection;
struct Request;

// Data socket: GET <data_mount>/<channels> with every transport (subscribe.cpp).
void handleData(Server& server, Connection& conn, Request& request, const http::Target& target);
// Control socket: publish, channels, sessions, stats, metrics, health (control_handler.cpp).
void handleControl(Server& server, Connection& conn, Request& request,
                   const http::Target& target);

} // namespace holdfast::server
