// Hand-over restarts without systemd (SIGUSR2): the running process starts its successor with
// the same arguments, passing the two listening sockets the way systemd socket activation does
// (LISTEN_FDS, LISTEN_FDNAMES=control:data, LISTEN_PID), so the sockets never close and web
// servers never see a refused connect. Connections arriving meanwhile wait in the listen
// backlog until the successor's loop runs.
#pragma once

#include <string>
#include <vector>

namespace holdfast::server {

// The path of the running binary. When the file was replaced since start (a package upgrade)
// this is the new file at the same path, so a hand-over also upgrades.
std::string selfPath();

// Forks and execs `binary` with `args` (argv[1..]) and the listening fds at 3 (control) and 4
// (data); `ready_fd` (the write end of a pipe) is passed as HOLDFAST_READY_FD for
// notifyReady(). Returns the child's pid, or -1 with `error` set. The fds stay open in the
// caller.
int spawnSuccessor(const std::string& binary, const std::vector<std::string>& args, int control_fd,
                   int data_fd, int ready_fd, std::string& error);

// In a successor: tells the predecessor that this process serves now (writes one byte to
// HOLDFAST_READY_FD and closes it). No-op when not started by a hand-over.
void notifyReady();

} // namespace holdfast::server
