#include "write/sidecar_names.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace nomtag {
namespace {

namespace fs = std::filesystem;

constexpr char kJournalSuffix[] = ".nomtag-journal";
constexpr char kTempMarker[] = ".nomtag-tmp-";

std::string Beside(const std::string& file, const std::string& name) {
  fs::path p(file);
  return (p.parent_path() / ("." + p.filename().string() + name)).string();
}

}  // namespace

std::string JournalPathFor(const std::string& file) {
  return Beside(file, kJournalSuffix);
}

std::string TempPathFor(const std::string& file) {
  static std::atomic<unsigned> counter{0};
  return Beside(file, kTempMarker + std::to_string(::getpid()) + "-" +
                          std::to_string(counter++));
}

bool ParseJournalName(const std::string& name, std::string* target) {
  const std::string suffix = kJournalSuffix;
  if (name.size() <= suffix.size() + 1 || name[0] != '.' ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  *target = name.substr(1, name.size() - suffix.size() - 1);
  return true;
}

bool ParseTempName(const std::string& name, std::string* target, long* pid) {
  size_t at = name.rfind(kTempMarker);
  if (name.empty() || name[0] != '.' || at == std::string::npos || at < 2)
    return false;
  *target = name.substr(1, at - 1);
  *pid = std::strtol(name.c_str() + at + sizeof kTempMarker - 1, nullptr, 10);
  return true;
}

bool IsSidecarName(const std::string& name) {
  std::string target;
  long pid = 0;
  if (ParseJournalName(name, &target)) return true;
  if (!ParseTempName(name, &target, &pid)) return false;
  // "<pid>-<n>" after the marker, digits only.
  size_t at = name.rfind(kTempMarker) + sizeof kTempMarker - 1;
  size_t dash = name.find('-', at);
  auto digits = [&](size_t from, size_t to) {
    if (from >= to) return false;
    for (size_t i = from; i < to; ++i)
      if (name[i] < '0' || name[i] > '9') return false;
    return true;
  };
  return dash != std::string::npos && digits(at, dash) &&
         digits(dash + 1, name.size());
}

}  // namespace nomtag
