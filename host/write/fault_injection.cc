#include "write/fault_injection.h"

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
}

}  // namespace nomtag
