// Small POSIX file helpers for the state directory: whole-file reads, atomic replacement
// (temporary file, fsync, rename, directory fsync) and the kernel's boot id.
#pragma once

#include <string>
#include <string_view>

namespace holdfast::store {

enum class ReadStatus { kOk, kMissing, kError };

// Reads all of `path` into `out`. kMissing when it does not exist; kError with `error` set.
ReadStatus readFile(const std::string& path, std::string& out, std::string& error);
// write(2) until done (EINTR retried). False with errno set on failure.
bool writeAll(int fd, std::string_view data);
// Replaces `path` with `data` atomically and durably: path.tmp, fsync, rename, fsync of `dir`.
// On failure `path` is untouched, the temporary file removed and `error` names the file.
bool replaceFile(const std::string& dir, const std::string& path, std::string_view data,
                 std::string& error);
// fsync of a directory, so a rename in it survives power loss.
bool syncDir(const std::string& dir, std::string& error);
// /proc/sys/kernel/random/boot_id without its newline: changes at every boot, so equal ids
// mean the kernel (and its page cache) survived since then. Empty when unreadable.
std::string bootId();

} // namespace holdfast::store
