#include "importing/tag_import.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace nomtag {
namespace {

Result<std::string> ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return FormatNumber(v.get<double>());
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  return Status::InvalidArgument("values are text, numbers or lists of them");
}

bool StaysInsideRoot(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    if (path.compare(start, slash - start, "..") == 0 &&
        (slash == std::string::npos ? path.size() - start : slash - start) == 2)
      return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

Result<ImportedFile> ParseTagImportLine(const std::string& line) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("not valid JSON (") + e.what() +
                                   ")");
  }
  if (!doc.is_object() || !doc.contains("path") || !doc["path"].is_string() ||
      !doc.contains("tags") || !doc["tags"].is_object())
    return Status::InvalidArgument(
        "expected {\"path\": \"...\", \"tags\": {...}}");
  ImportedFile out;
  out.path = doc["path"].get<std::string>();
  if (!StaysInsideRoot(out.path))
    return Status::InvalidArgument(
        "path must be relative to the library root, without ..");
  for (const auto& [key, value] : doc["tags"].items()) {
    std::string k = key.rfind("nom:", 0) == 0 ? key.substr(4) : key;
    if (!IsValidTagKey(k))
      return Status::InvalidArgument("invalid key '" + key + "'");
    TagValues& values = out.tags[k];
    const nlohmann::json list =
        value.is_array() ? value : nlohmann::json::array({value});
    for (const auto& v : list) {
      auto text = ValueText(v);
      if (!text.ok()) return text.status().Prepend(k);
      values.push_back(*text);
    }
    if (values.empty()) return Status::InvalidArgument(k + ": an empty list");
  }
  return out;
}

Result<std::vector<ImportedFile>> ParseTagImportFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound(file + ": cannot read");
  std::vector<ImportedFile> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto parsed = ParseTagImportLine(line);
    if (!parsed.ok())
      return Status::InvalidArgument(file + ":" + std::to_string(number) +
                                     ": " + parsed.status().message() +
                                     "; nothing was imported");
    out.push_back(std::move(*parsed));
  }
  return out;
}

namespace {

// Containers whose tags are Vorbis comments, where an empty value does
// not survive a write (the verify step would refuse it, naming nothing).
bool IsVorbisComment(const std::string& container) {
  return container == "flac" || container == "ogg-vorbis" ||
         container == "opus";
}

// "./Al//a.mp3" -> "Al/a.mp3"; "" when the path names the root or leaves
// it.
std::string NormalPath(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  if (out.empty() || out == "." || out[0] == '/' || out.back() == '/' ||
      out == ".." || out.rfind("../", 0) == 0)
    return "";
  return out;
}

}  // namespace

Status CheckImportAgainstLibrary(
    std::vector<ImportedFile>* entries,
    const std::map<std::string, std::string>& format_by_path) {
  std::vector<std::string> problems;
  std::vector<std::string> normal(entries->size());
  std::set<std::string> named;
  for (size_t i = 0; i < entries->size(); ++i) {
    const ImportedFile& entry = (*entries)[i];
    normal[i] = NormalPath(entry.path);
    auto known = format_by_path.find(normal[i]);
    if (normal[i].empty()) {
      problems.push_back(entry.path + ": leaves the library root");
      continue;
    }
    if (known == format_by_path.end()) {
      problems.push_back(entry.path +
                         ": no scanned file of the library has this path "
                         "(a folder, a typo, or not scanned yet?)");
      continue;
    }
    if (!named.insert(normal[i]).second) {
      problems.push_back(entry.path + ": names " + normal[i] +
                         " again (one entry per file)");
      continue;
    }
    for (const auto& [key, values] : entry.tags)
      for (const auto& value : values) {
        std::string why =
            UnstorableValueReason(value, !IsVorbisComment(known->second));
        if (!why.empty())
          problems.push_back(normal[i] + ": key '" + key + "': the value " +
                             why + " (" + known->second + ")");
      }
  }
  if (!problems.empty()) {
    std::string list;
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < problems.size() && i < kShown; ++i)
      list += "\n  " + problems[i];
    if (problems.size() > kShown)
      list +=
          "\n  ... and " + std::to_string(problems.size() - kShown) + " more";
    return Status::InvalidArgument(std::to_string(problems.size()) + " entr" +
                                   (problems.size() == 1 ? "y" : "ies") +
                                   " refused; nothing was imported:" + list);
  }
  for (size_t i = 0; i < entries->size(); ++i) (*entries)[i].path = normal[i];
  return Status::OK();
}

}  // namespace nomtag
