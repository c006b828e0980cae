// The settings of inference-external, from its `settings:` in
// plugins.yaml (docs/external-worker-protocol.md lists them).
#ifndef NOMTAG_PLUGINS_INFERENCE_EXTERNAL_EXTERNAL_SETTINGS_H_
#define NOMTAG_PLUGINS_INFERENCE_EXTERNAL_EXTERNAL_SETTINGS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::external {

struct TierSource {
  std::string model_id, label, opposite;  // opposite empty: none
};

struct Settings {
  std::vector<std::string> argv;  // command, then args
  double timeout_s = 60;          // per file, from request to answer
  double start_timeout_s = 30;    // from start to the hello line
  size_t max_line_bytes = 1 << 20;
  int max_restarts = 10;       // per session; then files fail at once
  size_t stderr_bytes = 8192;  // kept of the worker's stderr
  double min_duration_s = 0;   // shorter files are not sent
  uint32_t max_channels = 0;   // files with more are not sent; 0 any
  std::vector<TierSource> tier_sources;
};

// Parses the YAML text. Throws std::invalid_argument naming the setting
// when a value cannot be used.
Settings ParseSettings(const std::string& yaml);

}  // namespace nomtag::external

#endif  // NOMTAG_PLUGINS_INFERENCE_EXTERNAL_EXTERNAL_SETTINGS_H_
