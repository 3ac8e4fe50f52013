// POSIX file helpers for the state directory.
#include "store/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace holdfast::store {

ReadStatus readFile(const std::string& path, std::string& out, std::string& error) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return ReadStatus::kMissing;
    error = "open " + path + ": " + strerror(errno);
    return ReadStatus::kError;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = "read " + path + ": " + strerror(errno);
      ::close(fd);
      return ReadStatus::kError;
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ReadStatus::kOk;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool syncDir(const std::string& dir, std::string& error) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) {
    error = "fsync " + dir + ": " + strerror(errno);
    if (dfd >= 0)
      ::close(dfd);
    return false;
  }
  ::close(dfd);
  return true;
}

bool replaceFile(const std::string& dir, const std::string& path, std::string_view data,
                 std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
  bool ok = writeAll(fd, data) && fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    error = "write " + path + ": " + strerror(ok ? errno : saved);
    unlink(tmp.c_str());
    return false;
  }
  return syncDir(dir, error);
}

std::string bootId() {
  std::string id, error;
  if (readFile("/proc/sys/kernel/random/boot_id", id, error) != ReadStatus::kOk)
    return {};
  while (!id.empty() && (id.back() == '\n' || id.back() == ' '))
    id.pop_back();
  // Stored as one token in the snapshot header.
  for (char c : id) {
    if (c == ' ' || c == '\n')
      return {};
  }
  return id;
}

} // namespace holdfast::store
