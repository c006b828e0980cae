// What the commands share: loading plugins, opening the database,
// progress and failure reporting.
#include "cli/context.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace nomtag::cli {

Status LoadPlugins(const GlobalOptions& opts, PluginRegistry* registry) {
  std::string path =
      opts.config_path.empty() ? DefaultPluginConfigPath() : opts.config_path;
  if (path.empty())
    return Status::NotFound(
        "no plugins.yaml found (looked at $NOMTAG_CONFIG, ./plugins.yaml, "
        "~/.config/nomtag/plugins.yaml and the installed one); pass "
        "--config FILE");
  auto config = LoadPluginConfig(path);
  if (!config.ok()) return config.status();
  std::vector<std::string> dirs = opts.plugin_dirs;
  for (const auto& d : DefaultPluginDirs()) dirs.push_back(d);
  registry->LoadAll(*config, dirs);
  return Status::OK();
}

Status OpenSession(const GlobalOptions& opts, Session* session) {
  if (Status s = LoadPlugins(opts, &session->registry); !s.ok()) return s;
  for (const auto& r : session->registry.refused())
    std::fprintf(stderr, "nomtag: warning: plugin %s refused: %s\n",
                 r.label.c_str(), r.reason.c_str());
  if (session->registry.storages().empty())
    return Status::NotFound(
        "no storage plugin is loaded; add `- name: storage-sqlite` to "
        "plugins.yaml");
  auto db = StorageDatabase::Open(session->registry.storages().front(),
                                  opts.database);
  if (!db.ok()) return db.status();
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
  constexpr uint64_t kMax = 16u << 20;
  uint64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && n <= kMax; ++i)
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  std::string unit = text.substr(i);
  if (i == 0 || (!unit.empty() && unit != "K" && unit != "KiB"))
    return Status::InvalidArgument(
        "--padding takes a number of bytes (e.g. 4096 or 8KiB) or default, "
        "not '" +
        text + "'");
  if (!unit.empty()) n *= 1024;
  if (n > kMax)
    return Status::InvalidArgument("--padding is at most 16 MiB (16384KiB)");
  return static_cast<uint32_t>(n);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "nomtag: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace nomtag::cli
