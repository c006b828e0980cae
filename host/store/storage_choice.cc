#include "store/storage_choice.h"

#include <yaml-cpp/yaml.h>

#include "plugins/plugin_settings.h"

namespace nomtag {
namespace {

// The storage plugins nomtag ships for URLs: the scheme, the plugin's id
// and the name to add to plugins.yaml. A path needs none of these.
struct UrlBackend {
  const char* scheme;
  const char* plugin_id;
  const char* plugin_name;
};
constexpr UrlBackend kUrlBackends[] = {
    {"postgresql", "org.nomtag.storage.postgresql", "storage-postgresql"},
};
constexpr const char* kFileBackendName = "storage-sqlite";

const UrlBackend* BackendFor(const std::string& scheme) {
  for (const auto& b : kUrlBackends)
    if (scheme == b.scheme) return &b;
  return nullptr;
}

bool ServesUrls(const StoragePluginRef& plugin) {
  for (const auto& b : kUrlBackends)
    if (plugin.id == b.plugin_id) return true;
  return false;
}

// The `database:` setting of a plugin's settings, "" when none.
std::string DatabaseSetting(const std::string& settings_yaml) {
  if (settings_yaml.empty()) return "";
  try {
    YAML::Node node = YAML::Load(settings_yaml);
    if (node.IsMap() && node["database"] && node["database"].IsScalar())
      return node["database"].as<std::string>();
  } catch (const YAML::Exception&) {
    // Checked when the plugin loaded; nothing more to say here.
  }
  return "";
}

std::string Known() {
  std::string list = std::string(kFileBackendName) + " (a file path)";
  for (const auto& b : kUrlBackends)
    list += std::string(", ") + b.plugin_name + " (" + b.scheme + "://)";
  return list;
}

}  // namespace

bool MayNeedUrlBackend(const PluginConfig& config,
                       const std::string& database) {
  if (!DatabaseScheme(database).empty()) return true;
  bool file_backend_listed = false;
  for (const PluginSpec& spec : config.plugins) {
    if (spec.name == kFileBackendName) file_backend_listed = true;
    // Without --db a plugin's `database:` setting decides: any plugin
    // that may be a storage plugin and names a URL may be the one.
    const unsigned kind = KindOfName(spec);
    if (database.empty() && (kind == 0 || kind == kStoragePlugins) &&
        !DatabaseScheme(DatabaseSetting(spec.settings_yaml)).empty())
      return true;
  }
  return !file_backend_listed;
}

bool IsUrlBackendName(const std::string& plugin_name) {
  for (const auto& b : kUrlBackends)
    if (plugin_name == b.plugin_name) return true;
  return false;
}

std::string DatabaseScheme(const std::string& database) {
  std::string scheme = UrlScheme(database);
  return scheme == "postgres" ? "postgresql" : scheme;  // libpq's alias
}

Result<StorageChoice> ChooseStorage(const std::vector<StoragePluginRef>& loaded,
                                    const std::string& database) {
  if (loaded.empty())
    return Status::NotFound("no storage plugin is loaded; add `- name: " +
                            std::string(kFileBackendName) +
                            "` to plugins.yaml");
  // Without --db, the first storage plugin with a `database:` setting
  // decides (a PostgreSQL URL listed after storage-sqlite is not ignored);
  // without any, the first storage plugin serves its default.
  std::string name = database;
  std::string from = "--db";
  const StoragePluginRef* configured = &loaded.front();
  if (name.empty()) {
    for (const auto& p : loaded)
      if (!DatabaseSetting(p.settings_yaml).empty()) {
        configured = &p;
        name = DatabaseSetting(p.settings_yaml);
        break;
      }
    from = "the `database:` setting of " + configured->id;
  }
  const std::string scheme = DatabaseScheme(name);
  if (scheme.empty()) {
    // A path (or nothing: the plugin's default): a plugin for files.
    if (database.empty() && !ServesUrls(*configured))
      return StorageChoice{configured, name};
    for (const auto& p : loaded)
      if (!ServesUrls(p)) return StorageChoice{&p, name};
    if (name.empty()) return StorageChoice{&loaded.front(), name};
    return Status::NotFound("the database " + name +
                            " is a file path, and no storage plugin for "
                            "files is loaded; add `- name: " +
                            kFileBackendName + "` to plugins.yaml");
  }
  const UrlBackend* backend = BackendFor(scheme);
  if (backend == nullptr)
    return Status::InvalidArgument("nomtag has no storage plugin for " +
                                   scheme + ":// (" + from +
                                   "); storage plugins: " + Known());
  for (const auto& p : loaded)
    if (p.id == backend->plugin_id) return StorageChoice{&p, name};
  return Status::NotFound("the database " + scheme + "://… (" + from +
                          ") needs the " + backend->plugin_name +
                          " plugin, which is not loaded; add `- name: " +
                          backend->plugin_name + "` to plugins.yaml");
}

}  // namespace nomtag
