// Library: a folder of music whose files nomtag projects tags into.
#ifndef NOMTAG_CORE_LIBRARY_H_
#define NOMTAG_CORE_LIBRARY_H_

#include <cstdint>
#include <string>

#include "core/status.h"
#include "core/write_mode.h"

namespace nomtag {

struct Library {
  int64_t id = 0;
  std::string name;
  std::string root;  // absolute
  WriteMode mode = WriteMode::kFull;
  bool keep_mtime = false;
  bool copy_only = false;        // write_strategy: copy
  bool break_hardlinks = false;  // hardlinks: break
  // Room to leave when a write moves a file; 0 = each format's default.
  uint32_t padding = 0;
};

// OK for a name a library may take. Commands find a library by name or
// by numeric id, so a name that is a number ("1", "-2", "007") would be
// shadowed by an id: refused, as is an empty name.
Status ValidateLibraryName(const std::string& name);

}  // namespace nomtag

#endif  // NOMTAG_CORE_LIBRARY_H_
