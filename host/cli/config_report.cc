#include "cli/config_report.h"

#include <cstdio>

#include "plugins/plugin_registry.h"

namespace nomtag::cli {

void ReportConfigChoice(const ConfigChoice& choice) {
  if (!choice.path.empty()) {
    std::fprintf(stderr, "nomtag: configuration: %s (%s)\n",
                 choice.path.c_str(), choice.origin.c_str());
    return;
  }
  std::string tried;
  for (const auto& p : choice.looked_at)
    tried += (tried.empty() ? "" : ", ") + p;
  std::fprintf(stderr,
               "nomtag: no plugins.yaml found (looked at %s); loading the %zu "
               "bundled plugin(s) in %s with their default settings\n",
               tried.empty() ? "nothing" : tried.c_str(),
               choice.config.plugins.size(), BundledPluginDir().c_str());
}

}  // namespace nomtag::cli
