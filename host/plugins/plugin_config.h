// PluginConfig: what plugins.yaml asks the host to load.
//
//   plugin_dirs: [/opt/nomtag/plugins]   # optional, searched for names
//   plugins:
//     - name: format-mp3                 # nomtag-format-mp3.so in a dir
//     - path: ./build/my-plugin.so       # relative to the yaml file
//       settings:                        # handed to the plugin as YAML
//         padding: 4096
//   tiers:                               # optional: the mood tier rule
//     strict: {probability: 0.8, ratio: 1.2, gap: 0.15, max_spread: 0.08}
//     regular: {probability: 0.75}       # unnamed numbers keep defaults
//   roots:                               # optional: this machine's mounts
//     music: /mnt/nas/music              # library name -> its root here
//
// Parsing checks the shape and reports the file and line of every error;
// it never loads anything.
#ifndef NOMTAG_PLUGINS_PLUGIN_CONFIG_H_
#define NOMTAG_PLUGINS_PLUGIN_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tiers.h"

namespace nomtag {

struct PluginSpec {
  std::string name;           // set when given by name
  std::string path;           // set when given by path (made absolute)
  std::string settings_yaml;  // the `settings:` block as YAML text
  int line = 0;               // 1-based line in the config, for messages
  // Each key under `settings:`, with its line.
  std::vector<std::pair<std::string, int>> setting_lines;
  std::string source;    // the config file, for messages
  std::string base_dir;  // its folder: relative paths resolve from here
  // What to call it in messages: the name, or the path.
  const std::string& label() const { return name.empty() ? path : name; }
};

struct PluginConfig {
  std::string source;  // the file it came from, for messages
  std::vector<std::string> plugin_dirs;
  std::vector<PluginSpec> plugins;
  TierRule tiers;  // core/tiers.h defaults unless `tiers:` says otherwise
  // Where each named library's root is mounted on this machine, when
  // that is not where the database says (several machines, one
  // database). Absolute paths.
  std::map<std::string, std::string> roots;
};

// Parses YAML text. base_dir resolves relative paths; source names the
// text in errors ("plugins.yaml:12: ...").
Result<PluginConfig> ParsePluginConfig(const std::string& text,
                                       const std::string& source,
                                       const std::string& base_dir);

// Reads and parses a file.
Result<PluginConfig> LoadPluginConfig(const std::string& path);

}  // namespace nomtag

#endif  // NOMTAG_PLUGINS_PLUGIN_CONFIG_H_
