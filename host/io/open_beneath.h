// Opening a folder beneath a library's root, with no symbolic link on the
// way.
//
// A path from the database, an import or a request is relative to its
// library's root. Checking it as text ("no '..', not absolute") is not
// enough: with lib/ext -> ../outside, "ext/a.mp3" is text inside the root
// and a file outside it. So the folder is opened beneath the root's
// descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or, where
// the kernel lacks openat2 (ENOSYS, or a seccomp filter saying EPERM), one
// component at a time with O_NOFOLLOW. The root itself is opened as the
// user configured it (it may be a link the user made on purpose).
#ifndef NOMTAG_IO_OPEN_BENEATH_H_
#define NOMTAG_IO_OPEN_BENEATH_H_

#include <string>

#include "core/status.h"

namespace nomtag {

// Opens root/rel_dir (rel_dir relative, possibly empty) as a folder
// descriptor (O_RDONLY | O_DIRECTORY | O_CLOEXEC) that the caller closes.
// Refused when a component is a symbolic link, "..", or rel_dir is
// absolute; NotFound or IoError as the disk says. Thread-safe.
Result<int> OpenDirectoryBeneath(const std::string& root,
                                 const std::string& rel_dir);

// Splits "a/b/c.mp3" into "a/b" and "c.mp3" ("" and "c.mp3" at the top).
void SplitRelativePath(const std::string& rel, std::string* dir,
                       std::string* name);

}  // namespace nomtag

#endif  // NOMTAG_IO_OPEN_BENEATH_H_
