#include "write/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace nomtag {

Status InjectedFailure(const char* step, const std::string& path) {
  const char* want = std::getenv("NOMTAG_TEST_FAIL_AT");
  if (want == nullptr) return Status::OK();
  // "step" or "step@part-of-the-path": one file of a group.
  const char* at = std::strchr(want, '@');
  const size_t len = at ? static_cast<size_t>(at - want) : std::strlen(want);
  if (std::strlen(step) != len || std::strncmp(want, step, len) != 0)
    return Status::OK();
  if (at && path.find(at + 1) == std::string::npos) return Status::OK();
  return Status::IoError(path + ": " + step + ": injected failure (test hook)");
}

void CrashPoint(const char* point) {
  const char* want = std::getenv("NOMTAG_TEST_CRASH_AT");
  if (want != nullptr && std::strcmp(want, point) == 0) ::_exit(86);
  const char* stop = std::getenv("NOMTAG_TEST_STOP_AT");
  if (stop != nullptr && std::strcmp(stop, point) == 0) ::raise(SIGSTOP);
}

}  // namespace nomtag
