// A test hook, off unless the environment asks: NOMTAG_TEST_STOP_AT=<point>
// stops the process with SIGSTOP the first time it reaches that point, as
// a debugger, a swap storm or a frozen container would. Tests use it to
// hold a worker past its lease at an exact moment, then let it go on with
// SIGCONT. Points are named where PauseForTest is called (reconciler.cc).
#ifndef NOMTAG_CORE_TEST_PAUSE_H_
#define NOMTAG_CORE_TEST_PAUSE_H_

namespace nomtag {

void PauseForTest(const char* point);

}  // namespace nomtag

#endif  // NOMTAG_CORE_TEST_PAUSE_H_
