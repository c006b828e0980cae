// nomtag tags import LIBRARY FILE.jsonl: tags into the database, from
// another tagger or a test. One JSON object per line:
//   {"path": "Artist/Album/01.flac", "tags": {"mood-strict": "happy",
//    "mood-regular": ["happy", "calm"], "bpm": 120}}
// Numbers become their shortest round-trip text. The whole file is checked
// before anything is stored, so a bad line imports nothing.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/context.h"

namespace nomtag::cli {
namespace {

struct ImportArgs {
  std::string library, file;
  bool json = false;
};

Result<std::string> ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return FormatNumber(v.get<double>());
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  return Status::InvalidArgument("values are text, numbers or lists of them");
}

Result<std::vector<std::pair<std::string, TagSet>>> Parse(
    const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound(file + ": cannot read");
  std::vector<std::pair<std::string, TagSet>> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = [&](const std::string& why) {
      return Status::InvalidArgument(file + ":" + std::to_string(number) +
                                     ": " + why + "; nothing was imported");
    };
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return where(std::string("not valid JSON (") + e.what() + ")");
    }
    if (!doc.is_object() || !doc.contains("path") || !doc["path"].is_string() ||
        !doc.contains("tags") || !doc["tags"].is_object())
      return where("expected {\"path\": \"...\", \"tags\": {...}}");
    std::string path = doc["path"].get<std::string>();
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos)
      return where("path must be relative to the library root, without ..");
    TagSet tags;
    for (const auto& [key, value] : doc["tags"].items()) {
      std::string k = key.rfind("nom:", 0) == 0 ? key.substr(4) : key;
      if (!IsValidTagKey(k)) return where("invalid key '" + key + "'");
      auto& values = tags[k];
      if (value.is_array()) {
        for (const auto& v : value) {
          auto text = ValueText(v);
          if (!text.ok()) return where(k + ": " + text.status().message());
          values.push_back(*text);
        }
        if (values.empty()) return where(k + ": an empty list");
      } else {
        auto text = ValueText(value);
        if (!text.ok()) return where(k + ": " + text.status().message());
        values.push_back(*text);
      }
    }
    out.emplace_back(path, std::move(tags));
  }
  return out;
}

int Run(const GlobalOptions& opts, const ImportArgs& args) {
  auto entries = Parse(args.file);
  if (!entries.ok()) return Fail(entries.status());
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  if (Status s = session.db->Begin(); !s.ok()) return Fail(s);
  for (const auto& [path, tags] : *entries) {
    if (Status s = session.db->ReplaceTags(lib->id, path, tags); !s.ok()) {
      session.db->Rollback();
      return Fail(s.Prepend("nothing was imported"));
    }
  }
  if (Status s = session.db->Commit(); !s.ok()) return Fail(s);
  std::printf("%zu file(s) imported into '%s'\n", entries->size(),
              lib->name.c_str());
  return 0;
}

}  // namespace

void AddTagsImportCommand(CLI::App* tags, const GlobalOptions& opts,
                          int* exit_code) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* cmd = tags->add_subcommand(
      "import",
      "Store tags in the database from a JSON-lines file ({\"path\": ..., "
      "\"tags\": {...}} per line); files are written by `nomtag reconcile`.");
  cmd->add_option("LIBRARY", args->library, "name or id")->required();
  cmd->add_option("FILE", args->file, "JSON lines")->required();
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
