// Opening listening sockets for every supported address form.
#include "server/listener.h"

#include "util/address.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string_view>

namespace holdfast::server {
namespace {

constexpr int kBacklog = 4096;

bool setNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

std::string errnoText(std::string_view what) {
  return std::string(what) + ": " + strerror(errno);
}

void makeParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return;
  std::string dir = path.substr(0, slash);
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/')
      mkdir(dir.substr(0, i).c_str(), 0755); // errors surface at bind()
  }
}

// True when something accepts connections on the unix socket at `path`.
bool socketIsLive(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

ListenSocket openUnix(const std::string& path, std::string& error, unsigned mode) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    error = "unix socket path is empty or longer than " + std::to_string(sizeof(addr.sun_path) - 1);
    return {};
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = path + " exists and is not a socket";
      return {};
    }
    if (socketIsLive(path)) {
      error = path + " is in use by a running process (another holdfast?)";
      return {};
    }
    unlink(path.c_str()); // stale socket of an earlier run
  }
  makeParentDir(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errnoText("socket");
    return {};
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = errnoText("bind " + path);
    ::close(fd);
    return {};
  }
  // Permissions before listen(): no client can connect while the socket has umask's mode.
  if (chmod(path.c_str(), mode) != 0 || listen(fd, kBacklog) != 0 || !setNonBlocking(fd) ||
      stat(path.c_str(), &st) != 0) {
    error = errnoText("chmod/listen " + path);
    ::close(fd);
    unlink(path.c_str());
    return {};
  }
  return ListenSocket(fd, path, st.st_dev, st.st_ino);
}

ListenSocket openTcp(const util::Address& address, std::string& error) {
  const std::string& host = address.host;
  std::string port = std::to_string(address.port);
  std::string hostport = host + ":" + port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    error = "resolve " + hostport + ": " + gai_strerror(rc);
    return {};
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, kBacklog) == 0 &&
            setNonBlocking(fd);
  if (!ok)
    error = errnoText("bind/listen tcp:" + hostport);
  freeaddrinfo(res);
  if (!ok) {
    if (fd >= 0)
      ::close(fd);
    return {};
  }
  return ListenSocket(fd, "");
}

ListenSocket adoptFd(int fd, std::string& error) {
  std::string text = std::to_string(fd);
  int listening = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
    error = "fd:" + std::string(text) + " is not a listening socket";
    return {};
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (!setNonBlocking(fd)) {
    error = errnoText("fcntl fd:" + std::string(text));
    return {};
  }
  return ListenSocket(fd, "");
}

} // namespace

ListenSocket::ListenSocket(ListenSocket&& other) noexcept
    : fd_(other.fd_), unlink_path_(std::move(other.unlink_path_)), dev_(other.dev_),
      ino_(other.ino_) {
  other.fd_ = -1;
}

ListenSocket& ListenSocket::operator=(ListenSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    unlink_path_ = std::move(other.unlink_path_);
    dev_ = other.dev_;
    ino_ = other.ino_;
    other.fd_ = -1;
  }
  return *this;
}

ListenSocket::~ListenSocket() {
  close();
}

void ListenSocket::close() {
  if (fd_ < 0)
    return;
  ::close(fd_);
  fd_ = -1;
  // Only our own socket file: a newer instance may have bound the path since (restarts).
  struct stat st {};
  if (!unlink_path_.empty() && stat(unlink_path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_)
    unlink(unlink_path_.c_str());
  unlink_path_.clear();
}

ListenSocket openListener(const std::string& address, std::string& error, unsigned unix_mode) {
  util::AddressResult parsed = util::parseAddress(address);
  if (!parsed.address) {
    error = "address \"" + address + "\" " + parsed.error;
    return {};
  }
  const util::Address& a = *parsed.address;
  switch (a.kind) {
  case util::Address::Kind::kUnix:
    return openUnix(a.path, error, unix_mode);
  case util::Address::Kind::kTcp:
    return openTcp(a, error);
  case util::Address::Kind::kFd:
    return adoptFd(a.fd, error);
  }
  return {};
}

std::optional<int> systemdSocket(const std::string& name) {
  const char* pid = getenv("LISTEN_PID");
  const char* fds = getenv("LISTEN_FDS");
  const char* names = getenv("LISTEN_FDNAMES");
  if (!pid || !fds || !names || atol(pid) != static_cast<long>(getpid()))
    return std::nullopt;
  int count = atoi(fds);
  std::string_view list = names;
  for (int i = 0; i < count; ++i) {
    auto colon = list.find(':');
    std::string_view entry = list.substr(0, colon);
    if (entry == name)
      return 3 + i;
    if (colon == std::string_view::npos)
      break;
    list.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

} // namespace holdfast::server
