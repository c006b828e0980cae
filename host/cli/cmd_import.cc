// nomtag tags import LIBRARY FILE.jsonl: tags into the database, from
// another tagger or a test (format: importing/tag_import.h). The whole file
// is checked before anything is stored, so a bad line imports nothing.
#include <cstdio>
#include <map>

#include "cli/context.h"
#include "importing/tag_import.h"
#include "report/json_text.h"

namespace nomtag::cli {
namespace {

struct ImportArgs {
  std::string library, file;
  bool json = false;
};

int Run(const GlobalOptions& opts, const ImportArgs& args) {
  auto entries = ParseTagImportFile(args.file);
  if (!entries.ok()) return Fail(entries.status());
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  auto files = session.db->Files(lib->id);
  if (!files.ok()) return Fail(files.status());
  std::map<std::string, std::string> format_by_path;
  for (const StoredFile& f : *files) format_by_path[f.path] = f.format;
  if (Status s = CheckImportAgainstLibrary(&*entries, format_by_path); !s.ok())
    return Fail(s.Prepend(args.file));
  if (Status s = session.db->Begin(); !s.ok()) return Fail(s);
  for (const ImportedFile& entry : *entries) {
    if (Status s = session.db->ReplaceTags(lib->id, entry.path, entry.tags);
        !s.ok()) {
      session.db->Rollback();
      return Fail(s.Prepend("nothing was imported"));
    }
  }
  if (Status s = session.db->Commit(); !s.ok()) return Fail(s);
  if (args.json)
    PrintJson({{"library", lib->name},
               {"imported", static_cast<int64_t>(entries->size())}});
  else
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
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
