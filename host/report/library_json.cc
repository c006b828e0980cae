#include "report/library_json.h"

#include "write/safe_write.h"

namespace nomtag {

nlohmann::json LibraryJson(const Library& lib) {
  return {{"id", lib.id},
          {"name", lib.name},
          {"root", lib.root},
          {"file_write_mode", WriteModeName(lib.mode)},
          {"keep_mtime", lib.keep_mtime},
          {"write_strategy", lib.copy_only ? "copy" : "auto"},
          {"hardlinks", lib.break_hardlinks ? "break" : "keep"},
          {"padding", lib.padding}};
}

bool HeldByHardLinks(const std::string& error) {
  return error.find(kHardLinkRefusal) != std::string::npos;
}

nlohmann::json FailuresJson(
    const std::vector<std::pair<std::string, std::string>>& failures) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [path, error] : failures)
    out.push_back({{"path", path},
                   {"error", error},
                   {"hard_links", HeldByHardLinks(error)}});
  return out;
}

}  // namespace nomtag
