#include "core/library.h"

namespace nomtag {

Status ValidateLibraryName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("a library needs a name");
  size_t start = name[0] == '-' || name[0] == '+' ? 1 : 0;
  bool number = start < name.size();
  for (size_t i = start; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') number = false;
  if (number)
    return Status::InvalidArgument(
        "library name '" + name +
        "' is a number, which commands would take for a library id; "
        "choose a name with a letter in it");
  return Status::OK();
}

}  // namespace nomtag
