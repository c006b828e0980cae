#include "write/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace nomtag {

Status InjectedFailure(const char* step, const std::string& path) {
  const char* want = std::getenv("NOMTAG_TEST_FAIL_AT");
  if (want == nullptr || std::strcmp(want, step) != 0) return Status::OK();
  return Status::IoError(path + ": " + step + ": injected failure (test hook)");
}

void CrashPoint(const char* point) {
  const char* want = std::getenv("NOMTAG_TEST_CRASH_AT");
  if (want != nullptr && std::strcmp(want, point) == 0) ::_exit(86);
  const char* stop = std::getenv("NOMTAG_TEST_STOP_AT");
  if (stop != nullptr && std::strcmp(stop, point) == 0) ::raise(SIGSTOP);
}

}  // namespace nomtag
