// Resolving a path a client sends against a library root, so that no
// request can reach outside the root.
#ifndef NOMTAG_SERVER_INSIDE_ROOT_H_
#define NOMTAG_SERVER_INSIDE_ROOT_H_

#include <string>

#include "core/status.h"

namespace nomtag::server {

// root/relative when relative names a regular file inside root reached
// without any symbolic link. Refused: empty, absolute, a `.` or `..`
// component, a NUL byte, a link anywhere on the way (checked component by
// component with O_NOFOLLOW, from the root's own descriptor). The caller
// gets the path already decoded once by the HTTP layer; it is never
// decoded again, so "%2e%2e" is a file name, not a way up.
// REQUIRES: root is absolute and has no symbolic link (roots are resolved
// when a library is created).
Result<std::string> FileInsideRoot(const std::string& root,
                                   const std::string& relative);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_INSIDE_ROOT_H_
