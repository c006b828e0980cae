#include "plugins/plugin_registry.h"

#include <nomtag/format.h>
#include <nomtag/inference.h>
#include <nomtag/storage.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>

#include "plugins/plugin_settings.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

fs::path ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// The PluginKinds bit of an entry's kind; 0 for an unknown kind.
unsigned KindBit(uint32_t kind) {
  switch (kind) {
    case NOMTAG_KIND_FORMAT:
      return kFormatPlugins;
    case NOMTAG_KIND_INFERENCE:
      return kInferencePlugins;
    case NOMTAG_KIND_STORAGE:
      return kStoragePlugins;
  }
  return 0;
}

// The interface a plugin of each kind must provide.
const char* RequiredInterface(nomtag_plugin_kind kind, size_t* min_size) {
  switch (kind) {
    case NOMTAG_KIND_FORMAT:
      // The 1.0 table; the 1.6 calls taking `self` are used when present.
      *min_size = offsetof(nomtag_format, self);
      return NOMTAG_FORMAT_INTERFACE_ID;
    case NOMTAG_KIND_INFERENCE:
      // ABI 1.1 tables end at close; the 1.4 tail is read when present.
      *min_size = offsetof(nomtag_inference, close) + sizeof(void*);
      return NOMTAG_INFERENCE_INTERFACE_ID;
    case NOMTAG_KIND_STORAGE:
      // The 1.1 table; entries appended since (1.2 to 1.4) are checked
      // where they are used.
      *min_size = offsetof(nomtag_storage, open_v2);
      return NOMTAG_STORAGE_INTERFACE_ID;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> DefaultPluginDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NOMTAG_PLUGIN_PATH")) {
    std::string all = env;
    size_t start = 0;
    while (start <= all.size()) {
      size_t colon = all.find(':', start);
      std::string d = all.substr(start, colon - start);
      if (!d.empty()) dirs.push_back(d);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  dirs.push_back(BundledPluginDir());
  return dirs;
}

std::string BundledPluginDir() {
  return (ExecutableDir().parent_path() / NOMTAG_PLUGIN_RELDIR).string();
}

Status PluginRegistry::LoadOne(const PluginSpec& spec,
                               const std::string& path) {
  auto refuse = [&](const Status& why) {
    refused_.push_back({spec.label(), path, why.message(), spec.line});
    return why;
  };
  std::string resolved;  // the settings as init gets them (paths resolved)
  auto precheck = [this, &spec, &resolved](const nomtag_plugin_entry& e,
                                           std::string* settings) {
    // Commands skip plugins by the kind their names announce (LoadAll).
    const unsigned named = KindOfName(spec);
    if (named != 0 && named != KindBit(e.kind))
      return Status::InvalidArgument(
          "plugin '" + std::string(e.id) + "' is of kind " +
          KindName(static_cast<nomtag_plugin_kind>(e.kind)) +
          " but its name says otherwise: a name beginning with format-, "
          "inference- or storage- must be a plugin of that kind");
    for (const auto& p : plugins_)
      if (p->id() == e.id)
        return Status::InvalidArgument("duplicate plugin id '" +
                                       std::string(e.id) +
                                       "', already loaded from " + p->path());
    Status s = CheckSettings(spec, e, settings);
    resolved = *settings;
    return s;
  };
  auto loaded = PluginLibrary::Load(path, spec.settings_yaml, precheck);
  if (!loaded.ok()) return refuse(loaded.status());
  std::shared_ptr<PluginLibrary> lib = *loaded;

  const nomtag_plugin_entry& e = lib->entry();
  size_t min_size = 0;
  const char* needed = RequiredInterface(e.kind, &min_size);
  const auto* table = static_cast<const uint32_t*>(lib->GetInterface(needed));
  // Every table opens with its struct_size (a uint32_t).
  if (table == nullptr || *table < min_size)
    return refuse(Status::Unsupported(
        path + ": plugin '" + e.id + "' is of kind " + KindName(e.kind) +
        " but provides no " + needed + " interface"));

  if (e.kind == NOMTAG_KIND_FORMAT) {
    FormatPlugin format(e.id, reinterpret_cast<const nomtag_format*>(table),
                        lib);
    // One extension, one plugin: which would a file go to otherwise?
    for (const auto& ext : format.extensions())
      if (const FormatPlugin* other = FormatForExtension(ext))
        return refuse(Status::InvalidArgument(
            path + ": plugin '" + e.id + "' claims '." + ext +
            "' files, already claimed by '" + other->plugin_id() + "'"));
    formats_.push_back(std::move(format));
  }
  if (e.kind == NOMTAG_KIND_STORAGE)
    storages_.push_back(
        {e.id, reinterpret_cast<const nomtag_storage*>(table), lib, resolved});
  if (e.kind == NOMTAG_KIND_INFERENCE)
    inferences_.push_back({e.id, e.version ? e.version : "", spec.settings_yaml,
                           reinterpret_cast<const nomtag_inference*>(table),
                           lib});
  plugins_.push_back(std::move(lib));
  return Status::OK();
}

unsigned KindOfName(const PluginSpec& spec) {
  std::string name = spec.name;
  if (name.empty()) {
    name = fs::path(spec.path).filename().string();
    if (name.rfind("nomtag-", 0) != 0) return 0;
    name.erase(0, 7);
  }
  if (name.rfind("format-", 0) == 0) return kFormatPlugins;
  if (name.rfind("inference-", 0) == 0) return kInferencePlugins;
  if (name.rfind("storage-", 0) == 0) return kStoragePlugins;
  return 0;
}

void PluginRegistry::LoadAll(const PluginConfig& config,
                             const std::vector<std::string>& search_dirs,
                             unsigned kinds) {
  std::vector<std::string> dirs = config.plugin_dirs;
  dirs.insert(dirs.end(), search_dirs.begin(), search_dirs.end());
  for (const PluginSpec& spec : config.plugins) {
    const unsigned named = KindOfName(spec);
    if (named != 0 && (named & kinds) == 0) continue;
    if (!spec.path.empty()) {
      LoadOne(spec, spec.path);
      continue;
    }
    std::string file = "nomtag-" + spec.name + ".so";
    std::string found;
    std::error_code ec;
    for (const auto& d : dirs) {
      fs::path candidate = fs::path(d) / file;
      if (fs::is_regular_file(candidate, ec)) {
        found = candidate.lexically_normal().string();
        break;
      }
    }
    if (found.empty()) {
      std::string where;
      for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
      refused_.push_back(
          {spec.label(), "",
           "no " + file + " in the plugin directories (" + where + ")",
           spec.line});
      continue;
    }
    LoadOne(spec, found);
  }
}

const FormatPlugin* PluginRegistry::FormatForExtension(
    const std::string& ext) const {
  for (const auto& f : formats_)
    if (f.HandlesExtension(ext)) return &f;
  return nullptr;
}

}  // namespace nomtag
