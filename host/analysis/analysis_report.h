// What `nomtag analyze` and the server's analyze job share around
// Analyze(): which inference plugins a run uses, and the per-plugin summary
// both answer as JSON.
#ifndef NOMTAG_ANALYSIS_ANALYSIS_REPORT_H_
#define NOMTAG_ANALYSIS_ANALYSIS_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analyzer.h"
#include "core/status.h"
#include "plugins/plugin_registry.h"

namespace nomtag {

// Every loaded inference plugin, or only the one with id only_id (when not
// empty), in plugins.yaml order. NotFound, saying what to do, when there is
// none or no plugin has that id.
Result<std::vector<const InferencePluginRef*>> PluginsToAnalyze(
    const PluginRegistry& registry, const std::string& only_id);

// {"plugin", "version", "due", "analysed", "failed", "left_due",
//  "audio_seconds", "wall_seconds", "audio_seconds_per_second",
//  "failures_by_reason", "failures": [{"path", "reason"}]}
nlohmann::json ToJson(const InferencePluginRef& plugin,
                      const AnalyzeReport& report);

}  // namespace nomtag

#endif  // NOMTAG_ANALYSIS_ANALYSIS_REPORT_H_
