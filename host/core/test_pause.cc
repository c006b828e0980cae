#include "core/test_pause.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace nomtag {

void PauseForTest(const char* point) {
  static std::atomic<bool> paused{false};
  const char* want = std::getenv("NOMTAG_TEST_STOP_AT");
  if (want == nullptr || std::strcmp(want, point) != 0) return;
  if (paused.exchange(true)) return;
  std::raise(SIGSTOP);
}

}  // namespace nomtag
