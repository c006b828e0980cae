// nomtag tags show|write|clear FILE: the `nom` namespace of one file, by
// hand, through the same safe write reconciliation uses.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "core/write_mode.h"
#include "formats/foreign_text.h"
#include "io/file_source.h"
#include "report/json_text.h"
#include "write/recovery.h"
#include "write/safe_write.h"
#include "write/safe_write_projector.h"

namespace nomtag::cli {
namespace {

struct TagsArgs {
  std::string file;
  std::vector<std::string> assignments;  // key=value
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
  if (Status s = LoadPlugins(opts, reg); !s.ok()) return s;
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

int Write(const GlobalOptions& opts, const TagsArgs& args, bool clear) {
  TagSet tags;
  for (const auto& a : args.assignments) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(Status::InvalidArgument("'" + a + "' is not key=value"));
    std::string key = a.substr(0, eq);
    if (key.rfind("nom:", 0) == 0) key.erase(0, 4);
    if (!IsValidTagKey(key))
      return Fail(Status::InvalidArgument(
          "'" + key + "' is not a valid key ([a-z0-9][a-z0-9._-]{0,127})"));
    tags[key].push_back(a.substr(eq + 1));
  }
  auto mode = ParseWriteMode(args.mode);
  if (!mode.ok()) return Fail(mode.status());
  // Values given by hand are the user's: treat tiers as calibrated.
  TagSet desired = clear ? TagSet{} : DesiredTags(tags, *mode, true);

  PluginRegistry reg;
  auto format = Prepare(opts, &reg, args.file);
  if (!format.ok()) return Fail(format.status());
  WriteOptions wo;
  wo.keep_mtime = args.keep_mtime;
  wo.copy_only = args.copy_only;
  wo.break_hardlinks = args.break_hardlinks;
  auto padding = ParsePadding(args.padding);
  if (!padding.ok()) return Fail(padding.status());
  wo.padding = *padding;
  auto result = SafeWriteNamespace(**format, args.file, desired, wo);
  if (!result.ok()) return Fail(result.status());
  for (const auto& w : result->warnings)
    std::fprintf(stderr, "nomtag: warning: %s\n", w.c_str());
  if (args.json) {
    nlohmann::json out{{"file", args.file},
                       {"action", ActionName(result->action)},
                       {"bytes_written", result->bytes_written},
                       {"warnings", result->warnings},
                       {"keys", nlohmann::json::array()}};
    for (const auto& [k, v] : desired) out["keys"].push_back(k);
    PrintJson(out);
  } else {
    std::printf("%s: %s (%zu key%s", args.file.c_str(),
                ActionName(result->action), desired.size(),
                desired.size() == 1 ? "" : "s");
    if (result->action != WriteResult::Action::kUnchanged)
      std::printf(", %llu bytes written",
                  static_cast<unsigned long long>(result->bytes_written));
    std::printf(")\n");
  }
  return 0;
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
      "tags", "Show or change the nom namespace of one audio file by hand.");
  tags->require_subcommand(1);

  CLI::App* show = tags->add_subcommand(
      "show", "Print the nom namespace and the foreign tags of FILE.");
  show->add_option("FILE", args->file, "audio file")->required();
  show->add_flag("--json", args->json, "machine-readable output");
  show->callback([&opts, args, exit_code] { *exit_code = Show(opts, *args); });

  CLI::App* write = tags->add_subcommand(
      "write",
      "Replace the nom namespace of FILE by the given key=value pairs "
      "(repeat a key for a multi-value tag). Nothing else in the file "
      "changes; a write that would change anything else is refused.");
  write->add_option("FILE", args->file, "audio file")->required();
  write->add_option("TAGS", args->assignments,
                    "key=value pairs, e.g. mood-strict=happy bpm=120");
  write->add_option("--mode", args->mode,
                    "write mode filter: none (clear), minimal (mood tiers "
                    "only) or full (everything); default full");
  AddWriteFlags(write, args.get());
  write->callback(
      [&opts, args, exit_code] { *exit_code = Write(opts, *args, false); });

  CLI::App* clear = tags->add_subcommand(
      "clear", "Remove every nom tag from FILE (both encodings).");
  clear->add_option("FILE", args->file, "audio file")->required();
  AddWriteFlags(clear, args.get());
  clear->callback(
      [&opts, args, exit_code] { *exit_code = Write(opts, *args, true); });

  AddTagsImportCommand(tags, opts, exit_code);
}

}  // namespace nomtag::cli
