// Where nomtag's plugins.yaml comes from, in one place.
//
// The first of these that is given or exists wins:
//   1. --config FILE                      (must exist)
//   2. $NOMTAG_CONFIG                     (must exist)
//   3. $XDG_CONFIG_HOME/nomtag/plugins.yaml (~/.config/nomtag/... when unset)
//   4. /etc/nomtag/plugins.yaml           (the packaged default)
//   5. none: every bundled plugin (nomtag-*.so in <exe>/../lib/nomtag/plugins)
//      with its default settings, except those that do nothing without
//      settings (inference-external needs its worker command): they load
//      when a plugins.yaml names them.
// So nomtag works with no configuration at all, and a user or an
// administrator overrides it by writing one file.
#ifndef NOMTAG_PLUGINS_CONFIG_SEARCH_H_
#define NOMTAG_PLUGINS_CONFIG_SEARCH_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "plugins/plugin_config.h"

namespace nomtag {

// The system-wide configuration file (step 4).
inline constexpr const char* kSystemPluginConfig = "/etc/nomtag/plugins.yaml";

struct ConfigChoice {
  PluginConfig config;
  // Where it came from, for -v: "--config", "$NOMTAG_CONFIG",
  // "user configuration", "system configuration" or "bundled defaults".
  std::string origin;
  std::string path;  // the file read; empty for the bundled defaults
  std::vector<std::string> looked_at;  // files tried that did not exist
};

// Finds and parses the configuration. explicit_path is --config (may be
// empty). A named file (--config, $NOMTAG_CONFIG) that cannot be read, or
// any file that does not parse, is an error: nomtag never falls back
// silently past a configuration the user wrote.
Result<ConfigChoice> FindPluginConfig(const std::string& explicit_path);

// Step 5: every nomtag-<name>.so in dir, by name and in name order, with
// no settings.
PluginConfig BundledPluginConfig(const std::string& dir);

}  // namespace nomtag

#endif  // NOMTAG_PLUGINS_CONFIG_SEARCH_H_
