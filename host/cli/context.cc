// What the commands share: loading plugins, opening the database,
// progress and failure reporting.
#include "cli/context.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/config_report.h"
#include "store/storage_choice.h"

namespace nomtag::cli {

Status LoadPlugins(const GlobalOptions& opts, PluginRegistry* registry,
                   TierRule* tiers, std::map<std::string, std::string>* roots,
                   unsigned kinds, const std::string* database) {
  auto choice = FindPluginConfig(opts.config_path);
  if (!choice.ok()) return choice.status();
  if (opts.verbose) ReportConfigChoice(*choice);
  if (database && !MayNeedUrlBackend(choice->config, *database)) {
    auto& specs = choice->config.plugins;
    specs.erase(std::remove_if(specs.begin(), specs.end(),
                               [](const PluginSpec& spec) {
                                 return IsUrlBackendName(spec.name);
                               }),
                specs.end());
  }
  std::vector<std::string> dirs = opts.plugin_dirs;
  for (const auto& d : DefaultPluginDirs()) dirs.push_back(d);
  registry->LoadAll(choice->config, dirs, kinds);
  if (tiers) *tiers = choice->config.tiers;
  if (roots) *roots = choice->config.roots;
  return Status::OK();
}

Status OpenSession(const GlobalOptions& opts, Session* session,
                   OpenOptions::Access access, unsigned kinds) {
  std::map<std::string, std::string> roots;
  if (Status s = LoadPlugins(opts, &session->registry, &session->tiers, &roots,
                             kinds | kStoragePlugins, &opts.database);
      !s.ok())
    return s;
  for (const auto& r : session->registry.refused())
    std::fprintf(stderr, "nomtag: warning: plugin %s refused: %s\n",
                 r.label.c_str(), r.reason.c_str());
  auto choice = ChooseStorage(session->registry.storages(), opts.database);
  if (!choice.ok()) return choice.status();
  OpenOptions open;
  open.access = access;
  open.wait_ms = static_cast<int64_t>(opts.wait_s * 1000);
  auto db = StorageDatabase::Open(*choice->plugin, choice->database, open);
  if (!db.ok()) return db.status();
  (*db)->SetLocalRoots(std::move(roots));
  session->db = std::move(*db);
  return Status::OK();
}

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(::isatty(2) != 0) {}

Progress::~Progress() {
  if (shown_) std::fprintf(stderr, "\n");
}

void Progress::Update(int64_t done, int64_t total) {
  if (!tty_) return;
  shown_ = true;
  if (total > 0) {
    int width = 30;
    int filled = static_cast<int>(width * std::min(done, total) / total);
    std::fprintf(stderr, "\r%s [%s%s] %lld/%lld", label_.c_str(),
                 std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
  } else {
    std::fprintf(stderr, "\r%s %lld", label_.c_str(),
                 static_cast<long long>(done));
  }
  std::fflush(stderr);
}

Result<uint32_t> ParsePadding(const std::string& text) {
  if (text == "default") return uint32_t{0};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  const std::string unit = text.substr(digits);
  const uint64_t scale = unit.empty()                   ? 1
                         : unit == "K" || unit == "KiB" ? 1024
                         : unit == "M" || unit == "MiB" ? 1u << 20
                                                        : 0;
  if (digits == 0 || scale == 0)
    return Status::InvalidArgument(
        "--padding takes a number of bytes (e.g. 4096, 8KiB or 1MiB) or "
        "default, not '" +
        text + "'");
  constexpr uint64_t kMax = 16u << 20;
  // Over nine digits is over the bound in any unit (and would overflow).
  const uint64_t n =
      digits > 9 ? kMax + 1 : std::stoull(text.substr(0, digits)) * scale;
  if (n > kMax)
    return Status::InvalidArgument("--padding is at most 16 MiB, not '" + text +
                                   "'");
  return static_cast<uint32_t>(n);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "nomtag: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace nomtag::cli
