// Listening sockets: unix:PATH, tcp:HOST:PORT, fd:N, and systemd socket activation.
// Opening is separate from accepting so start-up can report every problem before running.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace holdfast::server {

// An open, listening, non-blocking socket. Owns the fd (closed on destruction) and, for unix
// sockets it created, unlinks the path on close.
class ListenSocket {
public:
  ListenSocket() = default;
  ListenSocket(int fd, std::string unlink_path, dev_t dev = 0, ino_t ino = 0)
      : fd_(fd), unlink_path_(std::move(unlink_path)), dev_(dev), ino_(ino) {}
  ListenSocket(ListenSocket&& other) noexcept;
  ListenSocket& operator=(ListenSocket&& other) noexcept;
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;
  ~ListenSocket();

  int fd() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void close();
  // Closes the fd but leaves the socket file: a successor process serves it now (hand-over).
  void release() {
    unlink_path_.clear();
    close();
  }

private:
  int fd_ = -1;
  std::string unlink_path_;
  dev_t dev_ = 0; // identity of the socket file we created, so close() unlinks only that
  ino_t ino_ = 0;
};

// Opens the listener for `address`. On failure returns an empty socket and sets `error`.
// unix: refuses a path a live process listens on, removes a stale socket file (never a
// non-socket file), creates the parent directory if missing, and sets `unix_mode` on the
// socket before listening. On close only the socket file this process created is removed.
// `unix_mode` is applied to unix sockets holdfast creates (chmod; the umask does not apply).
ListenSocket openListener(const std::string& address, std::string& error,
                          unsigned unix_mode = 0660);

// systemd socket activation: if LISTEN_PID is this process, returns the fd named `name` in
// LISTEN_FDNAMES (fds start at 3). nullopt when not activated or not named.
std::optional<int> systemdSocket(const std::string& name);

} // namespace holdfast::server
