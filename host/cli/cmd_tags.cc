// nomtag tags show FILE, tags write|clear FILE...: the `nom` namespace of
// files named by hand, through the same safe write reconciliation uses.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "core/write_mode.h"
#include "formats/foreign_text.h"
#include "io/file_source.h"
#include "report/json_text.h"
#include "write/group_write.h"
#include "write/recovery.h"
#include "write/safe_write.h"
#include "write/safe_write_projector.h"

namespace nomtag::cli {
namespace {

struct TagsArgs {
  std::string file;
  std::vector<std::string> files;      // tags clear FILE...
  std::vector<std::string> arguments;  // tags write: files and key=value
  std::string mode = "full";
  bool keep_mtime = false;
  bool copy_only = false;
  bool break_hardlinks = false;
  std::string padding = "default";
  bool json = false;
};

// Loads the plugins and finds the one for file; runs recovery for it.
Result<const FormatPlugin*> Prepare(const GlobalOptions& opts,
                                    PluginRegistry* reg,
                                    const std::string& file) {
  if (Status s = LoadPlugins(opts, reg, nullptr, nullptr, kFormatPlugins);
      !s.ok())
    return s;
  for (const auto& r : reg->refused())
    std::fprintf(stderr, "nomtag: warning: plugin %s refused: %s\n",
                 r.label.c_str(), r.reason.c_str());
  if (auto named = FormatForPath(*reg, file); !named.ok())
    return named.status();
  RecoveryReport report;
  if (Status s = RecoverFile(file, &report); !s.ok()) return s;
  if (report.rolled_back > 0)
    std::fprintf(stderr,
                 "nomtag: %s: rolled back a write that was interrupted\n",
                 file.c_str());
  // By content, the extension a hint: an Opus stream in a `.ogg` file.
  auto source = FileSource::Open(file);
  if (!source.ok()) return source.status();
  return FormatForContent(*reg, file, **source);
}

std::string Printable(const std::string& data) {
  bool text = data.size() <= 200;
  for (unsigned char c : data)
    if (c < 0x20 && c != '\t') text = false;
  if (text) return data;
  return "<" + std::to_string(data.size()) + " bytes>";
}

std::string Base64(const std::string& data) {
  static const char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16 |
                 static_cast<uint8_t>(data[i + 1]) << 8 |
                 static_cast<uint8_t>(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kDigits[(n >> shift) & 63];
  }
  if (i < data.size()) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<uint8_t>(data[i + 1]) << 8;
    out += kDigits[(n >> 18) & 63];
    out += kDigits[(n >> 12) & 63];
    out += i + 1 < data.size() ? kDigits[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int Show(const GlobalOptions& opts, const TagsArgs& args) {
  PluginRegistry reg;
  auto format = Prepare(opts, &reg, args.file);
  if (!format.ok()) return Fail(format.status());
  auto tags = ReadFileTags(**format, args.file);
  if (!tags.ok()) return Fail(tags.status());
  if (args.json) {
    nlohmann::json out;
    out["file"] = args.file;
    out["format"] = (*format)->container();
    out["nom"] = nlohmann::json::object();
    for (const auto& [k, v] : tags->nom.tags) out["nom"][k] = v;
    out["legacy_keys"] = tags->nom.has_legacy_keys;
    out["foreign"] = nlohmann::json::array();
    for (const auto& item : tags->foreign) {
      const ForeignText text = DescribeForeignItem(item);
      out["foreign"].push_back(
          {{"id", ForeignIdText(item.id)},
           {"size", item.data.size()},
           {"value", Printable(item.data)},
           {"text", text.is_text ? nlohmann::json(text.values) : nullptr},
           {"kind", text.is_text ? "text" : text.values.front()},
           {"raw_base64", Base64(item.data)}});
    }
    PrintJson(out);
    return 0;
  }
  std::printf("%s (%s)\n", args.file.c_str(), (*format)->container().c_str());
  std::printf("nom namespace:%s\n", tags->nom.tags.empty() ? " (empty)" : "");
  for (const auto& [k, values] : tags->nom.tags)
    for (const auto& v : values)
      std::printf("  nom:%s = %s\n", k.c_str(), v.c_str());
  std::printf("foreign tags (%zu, left untouched):\n", tags->foreign.size());
  for (const auto& item : tags->foreign)
    std::printf("  %s = %s\n", ForeignIdText(item.id).c_str(),
                ForeignTextLine(DescribeForeignItem(item)).c_str());
  return 0;
}

// `tags write` takes files and key=value pairs in any order: an argument
// is a pair when what comes before its first '=' is a key (an optional
// `nom:` before it; keys have no '/', so ./mood=x.mp3 names a file).
bool ParseAssignment(const std::string& arg, std::string* key,
                     std::string* value) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos) return false;
  *key = arg.substr(0, eq);
  if (key->rfind("nom:", 0) == 0) key->erase(0, 4);
  *value = arg.substr(eq + 1);
  return IsValidTagKey(*key);
}

Status SplitWriteArguments(const std::vector<std::string>& arguments,
                           std::vector<std::string>* files, TagSet* tags) {
  for (const auto& a : arguments) {
    std::string key, value;
    if (ParseAssignment(a, &key, &value))
      (*tags)[key].push_back(std::move(value));
    else
      files->push_back(a);
  }
  if (files->empty())
    return Status::InvalidArgument("name at least one audio file");
  for (const auto& f : *files) {
    std::error_code ec;
    if (f.find('=') != std::string::npos && f.find('/') == std::string::npos &&
        !std::filesystem::exists(f, ec))
      return Status::InvalidArgument(
          "'" + f +
          "' is neither a file nor key=value with a valid key "
          "([a-z0-9][a-z0-9._-]{0,127}); nothing was written");
  }
  return Status::OK();
}

// Opens a file a user named for a group write (group_write.h): its
// folder as named, locked.
Status OpenNamedFile(const PluginRegistry& reg, const std::string& file,
                     int wait_ms, bool* busy,
                     std::unique_ptr<TargetFile>* out) {
  if (auto named = FormatForPath(reg, file); !named.ok()) return named.status();
  auto target =
      TargetFile::Open(file, TargetFile::Purpose::kWrite, wait_ms, busy);
  if (!target.ok()) return target.status();
  *out = std::move(*target);
  return Status::OK();
}

nlohmann::json FileJson(const std::string& file,
                        const Result<WriteResult>& result,
                        const TagSet& desired) {
  nlohmann::json out{{"file", file}};
  if (!result.ok()) {
    out["error"] = result.status().ToString();
    return out;
  }
  out["action"] = ActionName(result->action);
  out["bytes_written"] = result->bytes_written;
  out["warnings"] = result->warnings;
  out["keys"] = nlohmann::json::array();
  for (const auto& [k, v] : desired) out["keys"].push_back(k);
  return out;
}

void PrintLine(const std::string& file, const WriteResult& result,
               const TagSet& desired) {
  std::printf("%s: %s (%zu key%s", file.c_str(), ActionName(result.action),
              desired.size(), desired.size() == 1 ? "" : "s");
  if (result.action != WriteResult::Action::kUnchanged)
    std::printf(", %llu bytes written",
                static_cast<unsigned long long>(result.bytes_written));
  std::printf(")\n");
}

// Writes desired into every file, the files in groups that share their
// syncs (group_write.h); a file that fails is reported and the others
// go on. One file prints as it always has; several add a summary.
int Write(const GlobalOptions& opts, const TagsArgs& args, bool clear) {
  std::vector<std::string> files = args.files;
  TagSet tags;
  if (!clear) {
    if (Status s = SplitWriteArguments(args.arguments, &files, &tags); !s.ok())
      return Fail(s);
  }
  auto mode = ParseWriteMode(args.mode);
  if (!mode.ok()) return Fail(mode.status());
  // Values given by hand are the user's: treat tiers as calibrated.
  TagSet desired = clear ? TagSet{} : DesiredTags(tags, *mode, true);
  WriteOptions wo;
  wo.keep_mtime = args.keep_mtime;
  wo.copy_only = args.copy_only;
  wo.break_hardlinks = args.break_hardlinks;
  auto padding = ParsePadding(args.padding);
  if (!padding.ok()) return Fail(padding.status());
  wo.padding = *padding;

  PluginRegistry reg;
  if (Status s = LoadPlugins(opts, &reg, nullptr, nullptr, kFormatPlugins);
      !s.ok())
    return Fail(s);
  for (const auto& r : reg.refused())
    std::fprintf(stderr, "nomtag: warning: plugin %s refused: %s\n",
                 r.label.c_str(), r.reason.c_str());
  // Copies a killed write left beside a file go first (the journal is
  // resolved again under the file's lock, as it is opened); a file whose
  // leftovers cannot be resolved fails alone.
  RecoveryReport report;
  const std::vector<Status> recovered = RecoverFiles(files, &report);
  std::vector<GroupWriteItem> items(files.size(), GroupWriteItem{desired, wo});
  auto results = WriteInGroups(
      items,
      [&](size_t i, int wait_ms, bool* busy, std::unique_ptr<TargetFile>* out) {
        if (!recovered[i].ok()) return recovered[i];
        return OpenNamedFile(reg, files[i], wait_ms, busy, out);
      },
      [&](size_t i, TargetFile& target) {
        return FormatForContent(reg, files[i], target.source());
      });

  size_t written = 0, unchanged = 0, failed = 0;
  nlohmann::json listed = nlohmann::json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& r = results[i];
    if (!r.ok()) {
      ++failed;
      std::fprintf(stderr, "nomtag: %s\n", r.status().ToString().c_str());
    } else {
      if (r->rolled_back > 0)
        std::fprintf(stderr,
                     "nomtag: %s: rolled back a write that was interrupted\n",
                     files[i].c_str());
      r->action == WriteResult::Action::kUnchanged ? ++unchanged : ++written;
      for (const auto& w : r->warnings)
        std::fprintf(stderr, "nomtag: warning: %s\n", w.c_str());
      if (!args.json) PrintLine(files[i], *r, desired);
    }
    if (args.json) listed.push_back(FileJson(files[i], r, desired));
  }
  if (files.size() == 1) {
    if (args.json && failed == 0) PrintJson(listed.front());
    return failed == 0 ? 0 : 1;
  }
  if (args.json) {
    PrintJson({{"files", listed},
               {"written", written},
               {"unchanged", unchanged},
               {"failed", failed}});
  } else {
    std::printf("%zu files: %zu written, %zu unchanged, %zu failed\n",
                files.size(), written, unchanged, failed);
  }
  return failed == 0 ? 0 : 1;
}

void AddWriteFlags(CLI::App* cmd, TagsArgs* args) {
  cmd->add_flag("--keep-mtime", args->keep_mtime,
                "give the file back its modification time");
  cmd->add_flag("--copy", args->copy_only,
                "always write a copy and rename it (never patch in place)");
  cmd->add_flag("--break-hardlinks", args->break_hardlinks,
                "allow a copy to detach a hard-linked name from the others");
  cmd->add_option(
      "--padding", args->padding,
      "room left for the next write when this one has to move "
      "the file, in bytes (4096, 8KiB, 1MiB) or default (each format's "
      "own, about 1-4 KiB)");
  cmd->add_flag("--json", args->json, "machine-readable output");
}

}  // namespace

void AddTagsCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code) {
  auto args = std::make_shared<TagsArgs>();
  CLI::App* tags = app.add_subcommand(
      "tags", "Show or change the nom namespace of audio files by hand.");
  tags->require_subcommand(1);

  CLI::App* show = tags->add_subcommand(
      "show", "Print the nom namespace and the foreign tags of FILE.");
  show->add_option("FILE", args->file, "audio file")->required();
  show->add_flag("--json", args->json, "machine-readable output");
  show->callback([&opts, args, exit_code] { *exit_code = Show(opts, *args); });

  CLI::App* write = tags->add_subcommand(
      "write",
      "Replace the nom namespace of each FILE by the given key=value pairs "
      "(repeat a key for a multi-value tag). Nothing else in the files "
      "changes; a write that would change anything else is refused. "
      "Several files are written together, sharing their syncs. Each file "
      "is reported unchanged, in place (patched), grown in place (its tag "
      "area grew and the filesystem made room: ext4, or XFS for a "
      "hard-linked file) or copied (a copy renamed over it).");
  write
      ->add_option("FILE|KEY=VALUE", args->arguments,
                   "audio files and key=value pairs, in any order, e.g. "
                   "a.mp3 b.flac mood-strict=happy bpm=120 (an argument is "
                   "a pair when it starts with a key and '='; write "
                   "./mood=x.mp3 for such a file name)")
      ->required();
  write->add_option("--mode", args->mode,
                    "write mode filter: none (clear), minimal (mood tiers "
                    "only) or full (everything); default full");
  AddWriteFlags(write, args.get());
  write->callback(
      [&opts, args, exit_code] { *exit_code = Write(opts, *args, false); });

  CLI::App* clear = tags->add_subcommand(
      "clear", "Remove every nom tag from each FILE (both encodings).");
  clear->add_option("FILE", args->files, "audio files")->required();
  AddWriteFlags(clear, args.get());
  clear->callback(
      [&opts, args, exit_code] { *exit_code = Write(opts, *args, true); });

  AddTagsImportCommand(tags, opts, exit_code);
}

}  // namespace nomtag::cli
