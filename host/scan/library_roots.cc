#include "scan/library_roots.h"

#include <filesystem>

#include "io/tree_walk.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

// A stored root resolved as far as the disk allows: older versions stored
// roots as typed, and a root may be gone (its library still owns it).
std::string Resolved(const std::string& root) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(root, ec), ec);
  if (ec) p = fs::path(root).lexically_normal();
  std::string s = p.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// "/a/b" relative to "/": IsAtOrUnder works on relative paths.
std::string Relative(const std::string& abs) {
  return abs.size() > 1 ? abs.substr(1) : "";
}

}  // namespace

Result<std::string> ResolveLibraryRoot(const std::string& root) {
  std::error_code ec;
  fs::path p = fs::canonical(fs::absolute(root, ec), ec);
  if (ec || !fs::is_directory(p, ec))
    return Status::NotFound(root + ": not a folder" +
                            (ec ? " (" + ec.message() + ")" : ""));
  return p.string();
}

Status CheckRootOverlap(const std::string& resolved_root,
                        const std::vector<Library>& libraries) {
  const std::string mine = Relative(resolved_root);
  for (const Library& lib : libraries) {
    const std::string theirs = Relative(Resolved(lib.root));
    const char* how = nullptr;
    if (mine == theirs)
      how = "is the root of";
    else if (IsAtOrUnder(mine, theirs))
      how = "lies inside";
    else if (IsAtOrUnder(theirs, mine))
      how = "contains";
    if (how)
      return Status::InvalidArgument(
          resolved_root + " " + how + " library '" + lib.name + "' (" +
          lib.root + "): a file belongs to exactly one library");
  }
  return Status::OK();
}

}  // namespace nomtag
