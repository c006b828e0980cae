// nomtag db copy FROM TO: a library database moved to another engine (or
// another file) with everything in it, so nothing becomes due again.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/new_database_file.h"
#include "report/json_text.h"
#include "store/storage_choice.h"

namespace nomtag::cli {
namespace {

struct CopyArgs {
  std::string from, to;
  bool json = false;
};

Result<std::unique_ptr<StorageDatabase>> OpenNamed(
    const GlobalOptions& opts, const PluginRegistry& registry,
    const std::string& database, OpenOptions::Access access) {
  auto choice = ChooseStorage(registry.storages(), database);
  if (!choice.ok()) return choice.status();
  OpenOptions open;
  open.access = access;
  open.wait_ms = static_cast<int64_t>(opts.wait_s * 1000);
  return StorageDatabase::Open(*choice->plugin, choice->database, open);
}

// Live workers holding write claims on FROM, asked before TO is created so
// that this refusal leaves no new file behind. (The export checks again,
// analysis claims included, inside its snapshot.)
Status NoRunningWorkers(StorageDatabase& from) {
  auto libraries = from.Libraries();
  if (!libraries.ok()) return libraries.status();
  std::string live;
  for (const Library& lib : *libraries) {
    auto holders = from.ClaimHolders(lib.id);
    if (!holders.ok()) return holders.status();
    for (const ClaimHolder& h : *holders)
      if (h.alive) live += (live.empty() ? "" : ", ") + h.worker;
  }
  if (live.empty()) return Status::OK();
  return Status::Refused("workers are running on " + from.location() +
                         " and hold claims (" + live +
                         "): what they write would be missing from the "
                         "copy; copy once they have finished or been "
                         "stopped. Nothing was created.");
}

int RunCopy(const GlobalOptions& opts, const CopyArgs& args) {
  PluginRegistry registry;
  if (Status s = LoadPlugins(opts, &registry); !s.ok()) return Fail(s);
  for (const auto& r : registry.refused())
    std::fprintf(stderr, "nomtag: warning: plugin %s refused: %s\n",
                 r.label.c_str(), r.reason.c_str());
  auto from = OpenNamed(opts, registry, args.from, OpenOptions::Access::kRead);
  if (!from.ok()) return Fail(from.status());
  if (Status s = NoRunningWorkers(**from); !s.ok()) return Fail(s);
  // A new file that the copy then fails to fill goes again.
  std::unique_ptr<NewDatabaseFile> made;
  if (DatabaseScheme(args.to).empty())
    made = std::make_unique<NewDatabaseFile>(args.to);
  auto to = OpenNamed(opts, registry, args.to, OpenOptions::Access::kCreate);
  auto fail = [&](const Status& s) {
    int rc = Fail(s);
    if (to.ok()) to->reset();  // closed before its files go
    if (made && made->made()) {
      std::string left = made->Discard();
      if (left.empty())
        std::fprintf(stderr, "nomtag: removed %s, which this copy created\n",
                     args.to.c_str());
      else
        std::fprintf(stderr,
                     "nomtag: warning: could not remove what this copy "
                     "created: %s\n",
                     left.c_str());
    }
    return rc;
  };
  if (!to.ok()) return fail(to.status());

  std::unique_ptr<Progress> bar;
  std::string shown;
  auto progress = [&](const std::string& table, int64_t done, int64_t total) {
    if (table != shown) {
      bar = std::make_unique<Progress>("copying " + table);
      shown = table;
    }
    bar->Update(done, total);
  };
  std::vector<std::pair<std::string, int64_t>> counts;
  Status s = (*from)->CopyInto(**to, progress, &counts);
  bar.reset();
  if (!s.ok()) return fail(s);
  if (args.json) {
    nlohmann::json rows = nlohmann::json::object();
    for (const auto& [table, n] : counts) rows[table] = n;
    PrintJson({{"from", (*from)->location()},
               {"to", (*to)->location()},
               {"rows", rows}});
  } else {
    std::printf("copied %s to %s:\n", (*from)->location().c_str(),
                (*to)->location().c_str());
    for (const auto& [table, n] : counts)
      std::printf("  %-22s %lld rows\n", table.c_str(),
                  static_cast<long long>(n));
  }
  return 0;
}

}  // namespace

void AddDbCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code) {
  CLI::App* db = app.add_subcommand(
      "db", "Work on a library database as a whole (see `db copy`).");
  db->require_subcommand(1);
  auto args = std::make_shared<CopyArgs>();
  CLI::App* copy = db->add_subcommand(
      "copy",
      "Copy a library database into a new or empty one, SQLite or "
      "PostgreSQL either way: libraries, files with what was last written "
      "to them, missing flags, tags, calibration, analysis results and "
      "embeddings, in one transaction on TO (all of it or nothing). Nothing "
      "becomes due again: a reconcile against the copy writes only what the "
      "original would have. Refused, changing nothing, when TO already "
      "holds a library or a calibration, or while a worker (reconcile, "
      "analyze) runs on FROM; claims of stopped workers are not copied. A "
      "new file TO that the copy fails to fill is removed again. "
      "FROM is only read. Example: nomtag db copy ~/.local/share/nomtag/"
      "nomtag.db 'postgresql://nomtag@/nomtag?host=/run/postgresql'");
  copy->add_option("FROM", args->from,
                   "the database to copy: an SQLite file or a postgresql:// "
                   "URL")
      ->required();
  copy->add_option("TO", args->to,
                   "where to copy it: a new SQLite file (created) or the URL "
                   "of an empty PostgreSQL database")
      ->required();
  copy->add_flag("--json", args->json,
                 "machine-readable output: the rows copied per table");
  copy->callback(
      [&opts, args, exit_code] { *exit_code = RunCopy(opts, *args); });
}

}  // namespace nomtag::cli
