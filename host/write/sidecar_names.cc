#include "write/sidecar_names.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "write/journal.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

constexpr char kJournalSuffix[] = ".nomtag-journal";
constexpr char kTempMarker[] = ".nomtag-tmp-";
constexpr size_t kNameMax = 255;
// The longest temporary suffix: marker, a pid, "-", a counter.
constexpr size_t kTempTail = sizeof kTempMarker - 1 + 10 + 1 + 10;

// name, or a shortened one with a hash, so that "." + stem + tail fits.
std::string Stem(const std::string& name, size_t tail) {
  if (1 + name.size() + tail <= kNameMax) return name;
  static const char kHex[] = "0123456789abcdef";
  std::string digest = Sha256(name), hex;
  for (int i = 0; i < 8; ++i) {
    hex.push_back(kHex[static_cast<unsigned char>(digest[i]) >> 4]);
    hex.push_back(kHex[static_cast<unsigned char>(digest[i]) & 15]);
  }
  size_t keep = kNameMax - 1 - tail - 1 - hex.size();
  // Do not cut a UTF-8 sequence: back up over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80)
    --keep;
  return name.substr(0, keep) + "~" + hex;
}

std::string Beside(const std::string& file, const std::string& name) {
  return (fs::path(file).parent_path() / name).string();
}

std::string BaseName(const std::string& file) {
  return fs::path(file).filename().string();
}

}  // namespace

std::string JournalNameFor(const std::string& name) {
  return "." + Stem(name, sizeof kJournalSuffix - 1) + kJournalSuffix;
}

std::string TempPrefixFor(const std::string& name) {
  return "." + Stem(name, kTempTail) + kTempMarker;
}

std::string TempNameFor(const std::string& name) {
  static std::atomic<unsigned> counter{0};
  return TempPrefixFor(name) + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

std::string JournalPathFor(const std::string& file) {
  return Beside(file, JournalNameFor(BaseName(file)));
}

std::string TempPathFor(const std::string& file) {
  return Beside(file, TempNameFor(BaseName(file)));
}

bool ParseJournalName(const std::string& name, std::string* target) {
  const std::string suffix = kJournalSuffix;
  if (name.size() <= suffix.size() + 1 || name[0] != '.' ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  *target = name.substr(1, name.size() - suffix.size() - 1);
  return true;
}

bool ParseTempName(const std::string& name, std::string* prefix) {
  size_t at = name.rfind(kTempMarker);
  if (name.empty() || name[0] != '.' || at == std::string::npos || at < 2)
    return false;
  *prefix = name.substr(0, at + sizeof kTempMarker - 1);
  return true;
}

bool IsSidecarName(const std::string& name) {
  std::string target;
  if (ParseJournalName(name, &target)) return true;
  if (!ParseTempName(name, &target)) return false;
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
