// PluginLibrary: one plugin, loaded, checked and initialised.
//
// Load() opens the shared library with every symbol bound at once
// (RTLD_NOW), finds the entry symbol, checks the ABI and the descriptor,
// and calls init with the plugin's settings. The library stays loaded
// while the PluginLibrary lives; the destructor calls deinit, then
// unloads. Anything obtained from the plugin (interface tables, objects it
// made) must hold a shared_ptr to its PluginLibrary, so the code behind it
// cannot be unloaded first.
//
// Thread contract: Load and destruction on the main thread; the accessors
// are const and safe to share.
#ifndef NOMTAG_PLUGINS_PLUGIN_LIBRARY_H_
#define NOMTAG_PLUGINS_PLUGIN_LIBRARY_H_

#include <nomtag/plugin.h>

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

namespace nomtag {

class PluginLibrary {
 public:
  // On failure: nothing stays loaded; the Status names the file and says
  // why (not found, not a shared library, no entry symbol, ABI a.b where
  // the host needs 1.x, init failed: <plugin's message>, ...).
  // precheck, when given, runs after the ABI check and before init; a
  // non-OK answer refuses the plugin (the registry uses it to refuse a
  // duplicate id without initialising it, and to check the settings
  // against the plugin's declaration). It may rewrite *settings_yaml,
  // which init then receives.
  using Precheck = std::function<Status(const nomtag_plugin_entry&,
                                        std::string* settings_yaml)>;
  static Result<std::shared_ptr<PluginLibrary>> Load(
      const std::string& path, const std::string& settings_yaml,
      const Precheck& precheck = nullptr);

  // Checks the descriptor without loading anything else; exposed for
  // tests. REQUIRES: entry is non-null.
  static Status CheckEntry(const nomtag_plugin_entry* entry);

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const;
  const nomtag_plugin_entry& entry() const;
  std::string id() const { return entry().id; }
  // The interface table for a versioned id, or nullptr.
  const void* GetInterface(const char* interface_id) const;

 private:
  struct Rep;
  explicit PluginLibrary(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

const char* KindName(nomtag_plugin_kind kind);

}  // namespace nomtag

#endif  // NOMTAG_PLUGINS_PLUGIN_LIBRARY_H_
