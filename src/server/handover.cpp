// Starting the successor process of a hand-over restart.
#include "server/handover.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace holdfast::server {
namespace {

// In the child: the two listeners at fds 3 and 4 (via fds above both, so neither overwrites
// the other), inheritable, and the activation variables naming them.
[[noreturn]] void execChild(const std::string& binary, const std::vector<std::string>& args,
                            int control_fd, int data_fd, int ready_fd) {
  int c = fcntl(control_fd, F_DUPFD, 64);
  int d = fcntl(data_fd, F_DUPFD, 64);
  int r = fcntl(ready_fd, F_DUPFD, 64); // F_DUPFD clears close-on-exec
  if (c < 0 || d < 0 || r < 0 || dup2(c, 3) < 0 || dup2(d, 4) < 0)
    _exit(127);
  setenv("HOLDFAST_READY_FD", std::to_string(r).c_str(), 1);
  setenv("LISTEN_FDS", "2", 1);
  setenv("LISTEN_FDNAMES", "control:data", 1);
  setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(binary.c_str(), argv.data());
  _exit(127);
}

} // namespace

std::string selfPath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return {};
  std::string path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)"; // the file was replaced since start
  if (path.ends_with(kDeleted))
    path.resize(path.size() - kDeleted.size());
  return path;
}

int spawnSuccessor(const std::string& binary, const std::vector<std::string>& args, int control_fd,
                   int data_fd, int ready_fd, std::string& error) {
  if (binary.empty() || access(binary.c_str(), X_OK) != 0) {
    error = "cannot run " + (binary.empty() ? std::string("the holdfast binary") : binary);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + strerror(errno);
    return -1;
  }
  if (pid == 0)
    execChild(binary, args, control_fd, data_fd, ready_fd);
  return pid;
}

void notifyReady() {
  const char* fd_text = getenv("HOLDFAST_READY_FD");
  if (!fd_text)
    return;
  int fd = atoi(fd_text);
  unsetenv("HOLDFAST_READY_FD");
  if (fd > 2) {
    ssize_t ignored = write(fd, "1", 1);
    (void)ignored;
    close(fd);
  }
}

} // namespace holdfast::server
