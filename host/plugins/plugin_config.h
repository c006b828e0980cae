// PluginConfig: what plugins.yaml asks the host to load.
//
//   plugin_dirs: [/opt/nomtag/plugins]   # optional, searched for names
//   plugins:
//     - name: format-mp3                 # nomtag-format-mp3.so in a dir
//     - path: ./build/my-plugin.so       # relative to the yaml file
//       settings:                        # handed to the plugin as YAML
//         padding: 4096
//
// Parsing checks the shape and reports the file and line of every error;
// it never loads anything.
#ifndef NOMTAG_PLUGINS_PLUGIN_CONFIG_H_
#define NOMTAG_PLUGINS_PLUGIN_CONFIG_H_

#include <string>
#include <vector>

#include "core/status.h"

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
