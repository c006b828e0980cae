// nomtag library add|list|set-mode|set|remove: the libraries and how much
// of the database each projects into its files.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "report/json_text.h"
#include "report/library_json.h"
#include "scan/library_roots.h"

namespace nomtag::cli {
namespace {

struct LibraryArgs {
  std::string name, root, mode = "full", library;
  // "" = unchanged
  std::string keep_mtime, write_strategy, hardlinks, padding;
  bool json = false;
};

Status ApplyOptions(const LibraryArgs& args, Library* lib) {
  if (!args.keep_mtime.empty()) {
    if (args.keep_mtime != "on" && args.keep_mtime != "off")
      return Status::InvalidArgument("--keep-mtime takes on or off");
    lib->keep_mtime = args.keep_mtime == "on";
  }
  if (!args.write_strategy.empty()) {
    if (args.write_strategy != "auto" && args.write_strategy != "copy")
      return Status::InvalidArgument("--write-strategy takes auto or copy");
    lib->copy_only = args.write_strategy == "copy";
  }
  if (!args.hardlinks.empty()) {
    if (args.hardlinks != "keep" && args.hardlinks != "break")
      return Status::InvalidArgument("--hardlinks takes keep or break");
    lib->break_hardlinks = args.hardlinks == "break";
  }
  if (!args.padding.empty()) {
    auto bytes = ParsePadding(args.padding);
    if (!bytes.ok()) return bytes.status();
    lib->padding = *bytes;
  }
  return Status::OK();
}

int Add(const GlobalOptions& opts, const LibraryArgs& args) {
  auto mode = ParseWriteMode(args.mode);
  if (!mode.ok()) return Fail(mode.status());
  if (Status s = ValidateLibraryName(args.name); !s.ok()) return Fail(s);
  auto root = ResolveLibraryRoot(args.root);
  if (!root.ok()) return Fail(root.status());
  Library lib;
  lib.name = args.name;
  lib.root = *root;
  lib.mode = *mode;
  if (Status s = ApplyOptions(args, &lib); !s.ok()) return Fail(s);
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kCreate);
      !s.ok())
    return Fail(s);
  auto existing = session.db->Libraries();
  if (!existing.ok()) return Fail(existing.status());
  if (Status s = CheckRootOverlap(lib.root, *existing); !s.ok())
    return Fail(s.Prepend("library '" + lib.name + "' not added"));
  auto id = session.db->AddLibrary(lib);
  if (!id.ok()) return Fail(id.status());
  lib.id = *id;
  if (args.json)
    PrintJson(LibraryJson(lib));
  else
    std::printf("library %lld '%s' at %s, write mode %s\n",
                static_cast<long long>(lib.id), lib.name.c_str(),
                lib.root.c_str(), WriteModeName(lib.mode));
  return 0;
}

int List(const GlobalOptions& opts, const LibraryArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kRead);
      !s.ok())
    return Fail(s);
  auto libs = session.db->Libraries();
  if (!libs.ok()) return Fail(libs.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& lib : *libs) out.push_back(LibraryJson(lib));
    PrintJson(out);
    return 0;
  }
  if (libs->empty())
    std::printf(
        "no libraries yet (add one with `nomtag library add NAME "
        "ROOT`)\n");
  for (const auto& lib : *libs)
    std::printf("%3lld  %-20s %-8s %s\n", static_cast<long long>(lib.id),
                lib.name.c_str(), WriteModeName(lib.mode), lib.root.c_str());
  return 0;
}

// set-mode and set share this: save, then report what it affects.
int Update(const GlobalOptions& opts, const LibraryArgs& args, bool set_mode) {
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  WriteMode old_mode = lib->mode;
  if (set_mode) {
    auto mode = ParseWriteMode(args.mode);
    if (!mode.ok()) return Fail(mode.status());
    lib->mode = *mode;
  }
  if (Status s = ApplyOptions(args, &*lib); !s.ok()) return Fail(s);
  auto affected = session.db->UpdateLibrary(*lib);
  if (!affected.ok()) return Fail(affected.status());
  if (args.json) {
    nlohmann::json out = LibraryJson(*lib);
    out["requires_reconciliation"] = *affected > 0;
    out["affected_file_count"] = *affected;
    PrintJson(out);
    return 0;
  }
  std::printf("library '%s': write mode %s", lib->name.c_str(),
              WriteModeName(lib->mode));
  if (set_mode && old_mode != lib->mode)
    std::printf(" (was %s)", WriteModeName(old_mode));
  std::printf("\n");
  if (*affected > 0)
    std::printf(
        "%lld file(s) need reconciliation: run `nomtag reconcile "
        "%s`\n",
        static_cast<long long>(*affected), lib->name.c_str());
  else
    std::printf("every file already matches\n");
  return 0;
}

// Forgets the library's rows; its files stay as they are on disk (tags
// written there stay too).
int Remove(const GlobalOptions& opts, const LibraryArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  if (Status s = session.db->RemoveLibrary(lib->id); !s.ok()) return Fail(s);
  if (args.json) {
    PrintJson({{"removed", lib->id}, {"name", lib->name}});
    return 0;
  }
  std::printf(
      "library '%s' removed from the database; no file under %s was "
      "touched\n",
      lib->name.c_str(), lib->root.c_str());
  return 0;
}

void AddOptionFlags(CLI::App* cmd, LibraryArgs* args) {
  cmd->add_option("--keep-mtime", args->keep_mtime,
                  "on: written files keep their modification time");
  cmd->add_option("--write-strategy", args->write_strategy,
                  "auto (patch in place when the tags fit) or copy (always "
                  "write a copy and rename it)");
  cmd->add_option("--hardlinks", args->hardlinks,
                  "keep (refuse a write that would detach a hard-linked "
                  "name) or break");
  cmd->add_option("--padding", args->padding,
                  "room left for the next write when a write has to move a "
                  "file anyway, in bytes (4096, 8KiB, 1MiB) or default (each "
                  "format's own, about 1-4 KiB)");
  cmd->add_flag("--json", args->json, "machine-readable output");
}

}  // namespace

void AddLibraryCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code) {
  auto args = std::make_shared<LibraryArgs>();
  CLI::App* cmd = app.add_subcommand(
      "library", "Add, list and configure libraries (folders of music).");
  cmd->require_subcommand(1);

  CLI::App* add = cmd->add_subcommand("add", "Add a library.");
  add->add_option("NAME", args->name, "a unique name")->required();
  add->add_option("ROOT", args->root, "the folder")->required();
  add->add_option("--mode", args->mode,
                  "write mode: none, minimal (mood tiers only) or full "
                  "(default)");
  AddOptionFlags(add, args.get());
  add->callback([&opts, args, exit_code] { *exit_code = Add(opts, *args); });

  CLI::App* list = cmd->add_subcommand("list", "List the libraries.");
  list->add_flag("--json", args->json, "machine-readable output");
  list->callback([&opts, args, exit_code] { *exit_code = List(opts, *args); });

  CLI::App* mode = cmd->add_subcommand(
      "set-mode",
      "Change a library's write mode (none, minimal, full) and report how "
      "many files then need reconciliation.");
  mode->add_option("LIBRARY", args->library, "name or id")->required();
  mode->add_option("MODE", args->mode, "none, minimal or full")->required();
  mode->add_flag("--json", args->json, "machine-readable output");
  mode->callback(
      [&opts, args, exit_code] { *exit_code = Update(opts, *args, true); });

  CLI::App* remove = cmd->add_subcommand(
      "remove",
      "Forget a library: its rows, tags and analyses leave the database; "
      "no file is touched. Refused while a run holds its files.");
  remove->add_option("LIBRARY", args->library, "name or id")->required();
  remove->add_flag("--json", args->json, "machine-readable output");
  remove->callback(
      [&opts, args, exit_code] { *exit_code = Remove(opts, *args); });

  CLI::App* set = cmd->add_subcommand("set", "Change a library's options.");
  set->add_option("LIBRARY", args->library, "name or id")->required();
  AddOptionFlags(set, args.get());
  set->callback(
      [&opts, args, exit_code] { *exit_code = Update(opts, *args, false); });
}

}  // namespace nomtag::cli
