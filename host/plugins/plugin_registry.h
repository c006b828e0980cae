// PluginRegistry: every plugin plugins.yaml asked for, loaded or refused.
//
// A plugin that cannot be loaded (missing file, not a shared library, no
// entry symbol, incompatible ABI, failing init, duplicate id, missing
// interface for its kind) is refused with a reason and the others load
// anyway, as beets does. The registry owns the loaded libraries; typed
// views (FormatPlugin) keep their library alive on their own.
//
// Thread contract: build and destroy on the main thread; const methods are
// safe to share once built.
#ifndef NOMTAG_PLUGINS_PLUGIN_REGISTRY_H_
#define NOMTAG_PLUGINS_PLUGIN_REGISTRY_H_

#include <nomtag/inference.h>
#include <nomtag/storage.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/format_plugin.h"
#include "plugins/plugin_config.h"
#include "plugins/plugin_library.h"

namespace nomtag {

struct RefusedPlugin {
  std::string label;   // the name or path from the config
  std::string path;    // the file tried, when one was found
  std::string reason;  // why it was refused
  int line = 0;        // its line in the config
};

// A loaded storage plugin's table, with its library kept alive and its
// settings (what store/storage_choice.h reads `database:` from).
struct StoragePluginRef {
  std::string id;
  const nomtag_storage* table = nullptr;
  std::shared_ptr<const void> keepalive;
  std::string settings_yaml;
};

// A loaded inference plugin's table, with what makes its results current
// (id, version, the digest of its settings) and its library kept alive.
struct InferencePluginRef {
  std::string id;
  std::string version;
  std::string settings_yaml;
  const nomtag_inference* table = nullptr;
  std::shared_ptr<const void> keepalive;
};

// The kinds of plugin a command uses (a bit set).
enum PluginKinds : unsigned {
  kFormatPlugins = 1u << 0,
  kInferencePlugins = 1u << 1,
  kStoragePlugins = 1u << 2,
  kAllPlugins = kFormatPlugins | kInferencePlugins | kStoragePlugins,
};

// The kind a plugin's name announces: format-…, inference-… or storage-…
// (the bundled plugins' names; a path's file name without `nomtag-` and
// `.so`); 0 when the name says nothing.
unsigned KindOfName(const PluginSpec& spec);

class PluginRegistry {
 public:
  PluginRegistry() = default;

  // Loads every plugin of config, in order. Names are looked up as
  // nomtag-<name>.so in config.plugin_dirs, then in search_dirs.
  //
  // A plugin whose name announces a kind not in `kinds` is not loaded at
  // all: loading costs what its libraries cost (the analysis plugin brings
  // FFmpeg's ~130, PostgreSQL's libpq a score), about 60 ms at every start
  // of a command that only writes tags. A plugin whose name announces no
  // kind is always loaded; one whose kind is not the one its name
  // announces is refused.
  void LoadAll(const PluginConfig& config,
               const std::vector<std::string>& search_dirs,
               unsigned kinds = kAllPlugins);

  // Loads one plugin by absolute path; returns its refusal when refused.
  Status LoadOne(const PluginSpec& spec, const std::string& path);

  const std::vector<std::shared_ptr<PluginLibrary>>& plugins() const {
    return plugins_;
  }
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  const std::vector<FormatPlugin>& formats() const { return formats_; }
  const std::vector<StoragePluginRef>& storages() const { return storages_; }
  const std::vector<InferencePluginRef>& inferences() const {
    return inferences_;
  }

  // The format plugin for a lower-case extension without the dot, or null.
  const FormatPlugin* FormatForExtension(const std::string& ext) const;

 private:
  std::vector<std::shared_ptr<PluginLibrary>> plugins_;
  std::vector<RefusedPlugin> refused_;
  std::vector<FormatPlugin> formats_;
  std::vector<StoragePluginRef> storages_;
  std::vector<InferencePluginRef> inferences_;
};

// The directories searched for plugins given by name, after the config's
// own plugin_dirs: $NOMTAG_PLUGIN_PATH (colon-separated), then
// BundledPluginDir().
std::vector<std::string> DefaultPluginDirs();

// Where bundled plugins live relative to the nomtag executable
// (<exe>/../lib/nomtag/plugins, in the build and the install tree alike).
std::string BundledPluginDir();

}  // namespace nomtag

#endif  // NOMTAG_PLUGINS_PLUGIN_REGISTRY_H_
