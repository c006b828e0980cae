#include "plugins/config_search.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "plugins/plugin_registry.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

// $XDG_CONFIG_HOME/nomtag/plugins.yaml, or ~/.config/...; empty when
// neither variable is set.
std::string UserConfigPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  // The XDG specification says a relative value is to be ignored.
  if (xdg != nullptr && xdg[0] == '/')
    return (fs::path(xdg) / "nomtag/plugins.yaml").string();
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0])
    return (fs::path(home) / ".config/nomtag/plugins.yaml").string();
  return "";
}

Result<ConfigChoice> Load(const std::string& path, const std::string& origin,
                          std::vector<std::string> looked_at) {
  auto config = LoadPluginConfig(path);
  if (!config.ok()) return config.status().Prepend(origin);
  return ConfigChoice{std::move(*config), origin, path, std::move(looked_at)};
}

// Bundled plugins that have no default: loaded without settings they
// would only be refused.
bool NeedsSettings(const std::string& name) {
  return name == "inference-external";
}

}  // namespace

PluginConfig BundledPluginConfig(const std::string& dir) {
  PluginConfig config;
  config.source = "bundled defaults";
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const std::string prefix = "nomtag-", suffix = ".so";
    if (file.size() > prefix.size() + suffix.size() &&
        file.compare(0, prefix.size(), prefix) == 0 &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(file.substr(prefix.size(),
                                  file.size() - prefix.size() - suffix.size()));
  }
  names.erase(std::remove_if(names.begin(), names.end(), NeedsSettings),
              names.end());
  std::sort(names.begin(), names.end());
  for (auto& n : names) {
    PluginSpec spec;
    spec.name = std::move(n);
    config.plugins.push_back(std::move(spec));
  }
  return config;
}

Result<ConfigChoice> FindPluginConfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) return Load(explicit_path, "--config", {});
  if (const char* env = std::getenv("NOMTAG_CONFIG"); env != nullptr && env[0])
    return Load(env, "$NOMTAG_CONFIG", {});
  std::vector<std::string> looked_at;
  std::error_code ec;
  for (const auto& [path, origin] :
       {std::pair{UserConfigPath(), "user configuration"},
        std::pair{std::string(kSystemPluginConfig), "system configuration"}}) {
    if (path.empty()) continue;
    // A file that exists but cannot be read is an error, not a skip.
    if (fs::exists(path, ec)) return Load(path, origin, looked_at);
    looked_at.push_back(path);
  }
  return ConfigChoice{BundledPluginConfig(BundledPluginDir()),
                      "bundled defaults", "", std::move(looked_at)};
}

}  // namespace nomtag
