// The access token file: created once, 0600, never through a link.
#include "server/access_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace nomtag::server {

std::string DefaultTokenPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/')
    return std::string(xdg) + "/nomtag/serve-token";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0')
    return std::string(home) + "/.config/nomtag/serve-token";
  return "";
}

Result<std::string> RandomHex(size_t n) {
  std::string bytes(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(bytes.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return Status::IoError(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(r);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

namespace {

Result<std::string> ReadToken(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Status::IoError(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 077) != 0)
    return Status::Refused(path +
                           ": the token file must be a regular file of yours "
                           "that only you can read (chmod 600 it, or delete "
                           "it to get a new token)");
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return Status::IoError(path + ": " + std::strerror(errno));
  std::string token(buf, static_cast<size_t>(n));
  while (!token.empty() && (token.back() == '\n' || token.back() == ' '))
    token.pop_back();
  if (token.size() < 32)
    return Status::Corrupt(path +
                           ": the token is too short (delete the file "
                           "to get a new one)");
  return token;
}

}  // namespace

Result<std::string> LoadOrCreateToken(const std::string& path) {
  if (path.empty())
    return Status::NotFound(
        "no folder for the token file: set HOME or XDG_CONFIG_HOME");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    auto token = ReadToken(fd, path);
    ::close(fd);
    return token;
  }
  if (errno == ELOOP)
    return Status::Refused(path + ": the token file is a symbolic link");
  if (errno != ENOENT)
    return Status::IoError(path + ": " + std::strerror(errno));

  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);  // best effort: the file itself is 0600
  auto token = RandomHex(32);
  if (!token.ok()) return token.status();
  fd = ::open(path.c_str(),
              O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
  std::string line = *token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) ==
                static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IoError(path + ": cannot write the token");
  }
  return token;
}

}  // namespace nomtag::server
