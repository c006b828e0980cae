// Checks a plugin's `settings:` from plugins.yaml against the settings the
// plugin declares (nomtag_plugin_entry.settings, since ABI 1.3), before
// its init sees them: an unknown key (a misspelt `databse:`) is an error
// naming its line, and a relative path setting is resolved against the
// folder of plugins.yaml, not the folder nomtag happens to run in. A path
// setting that is a URL (`postgresql://…`) is left as it is.
#ifndef NOMTAG_PLUGINS_PLUGIN_SETTINGS_H_
#define NOMTAG_PLUGINS_PLUGIN_SETTINGS_H_

#include <nomtag/plugin.h>

#include <string>

#include "core/status.h"
#include "plugins/plugin_config.h"

namespace nomtag {

// On success *settings_yaml (the spec's settings as YAML text) holds the
// settings with path values resolved. A plugin that declares nothing
// gets its settings unchecked and unchanged.
Status CheckSettings(const PluginSpec& spec, const nomtag_plugin_entry& entry,
                     std::string* settings_yaml);

// The scheme of a URL-like value (`scheme://…`, RFC 3986's scheme
// alphabet), lower-cased; "" for anything else, a path included.
std::string UrlScheme(const std::string& value);

}  // namespace nomtag

#endif  // NOMTAG_PLUGINS_PLUGIN_SETTINGS_H_
