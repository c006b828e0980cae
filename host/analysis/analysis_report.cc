#include "analysis/analysis_report.h"

namespace nomtag {

Result<std::vector<const InferencePluginRef*>> PluginsToAnalyze(
    const PluginRegistry& registry, const std::string& only_id) {
  const auto& plugins = registry.inferences();
  if (plugins.empty())
    return Status::NotFound(
        "no inference plugin is loaded; add `- name: inference-descriptors` "
        "to plugins.yaml");
  std::vector<const InferencePluginRef*> out;
  for (const auto& plugin : plugins)
    if (only_id.empty() || plugin.id == only_id) out.push_back(&plugin);
  if (out.empty())
    return Status::NotFound("no loaded inference plugin has the id '" +
                            only_id + "'");
  return out;
}

nlohmann::json ToJson(const InferencePluginRef& plugin,
                      const AnalyzeReport& r) {
  double speed = r.wall_seconds > 0 ? r.audio_seconds / r.wall_seconds : 0;
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& [path, why] : r.failures)
    failures.push_back({{"path", path}, {"reason", why}});
  return {{"plugin", plugin.id},
          {"version", plugin.version},
          {"due", r.due},
          {"analysed", r.analysed},
          {"failed", r.failed},
          {"left_due", r.left_due},
          {"audio_seconds", r.audio_seconds},
          {"wall_seconds", r.wall_seconds},
          {"audio_seconds_per_second", speed},
          {"failures_by_reason", r.failures_by_reason},
          {"failures", failures}};
}

}  // namespace nomtag
