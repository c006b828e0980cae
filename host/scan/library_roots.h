// Where a library may live. A file belongs to exactly one library, so a
// new library's root is compared, resolved (symbolic links and "." and
// ".." followed), with every other library's: equal, inside or containing
// another is refused, naming it. Roots are stored resolved, so a link to
// a library's folder is the same library.
#ifndef NOMTAG_SCAN_LIBRARY_ROOTS_H_
#define NOMTAG_SCAN_LIBRARY_ROOTS_H_

#include <string>
#include <vector>

#include "core/library.h"
#include "core/status.h"

namespace nomtag {

// The absolute, resolved path of the folder root names; NotFound when it
// is not a folder.
Result<std::string> ResolveLibraryRoot(const std::string& root);

// OK when resolved_root (from ResolveLibraryRoot) neither equals, lies
// inside nor contains the root of any of libraries; else InvalidArgument
// naming the library it overlaps.
Status CheckRootOverlap(const std::string& resolved_root,
                        const std::vector<Library>& libraries);

}  // namespace nomtag

#endif  // NOMTAG_SCAN_LIBRARY_ROOTS_H_
