// Test hooks for the safe write, off unless the environment asks:
//   NOMTAG_TEST_FAIL_AT=<step>   that step fails with an I/O error;
//   NOMTAG_TEST_FAIL_AT=<step>@<text>
//                                only for paths containing text (one
//                                file of a group write);
//   NOMTAG_TEST_CRASH_AT=<point> the process ends there at once
//                                (_exit(86)), as kill -9 would leave it;
//   NOMTAG_TEST_STOP_AT=<point>  the process stops there (SIGSTOP), as a
//                                slow or paused writer would, holding what
//                                it holds, until it gets SIGCONT.
// Steps and points are the names used in safe_write.cc, commit.cc and
// journal.cc (e.g. "journal-fsync", "after-journal", "rename"). Tests use
// them to prove the original survives every step.
#ifndef NOMTAG_WRITE_FAULT_INJECTION_H_
#define NOMTAG_WRITE_FAULT_INJECTION_H_

#include <string>

#include "core/status.h"

namespace nomtag {

// OK, or the injected failure when NOMTAG_TEST_FAIL_AT names step.
Status InjectedFailure(const char* step, const std::string& path);

// Ends the process when NOMTAG_TEST_CRASH_AT names point; stops it when
// NOMTAG_TEST_STOP_AT does.
void CrashPoint(const char* point);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_FAULT_INJECTION_H_
