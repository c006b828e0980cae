#include "external_settings.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace nomtag::external {
namespace {

[[noreturn]] void Bad(const std::string& what) {
  throw std::invalid_argument(what);
}

template <typename T>
T Number(const YAML::Node& node, const char* key, T lo, T hi, T fallback) {
  YAML::Node v = node[key];
  if (!v) return fallback;
  T out;
  try {
    out = v.as<T>();
  } catch (const YAML::Exception&) {
    Bad(std::string("`") + key + ":` must be a number");
  }
  if (!(out >= lo && out <= hi))
    Bad(std::string("`") + key + ":` must be between " + std::to_string(lo) +
        " and " + std::to_string(hi));
  return out;
}

std::string Text(const YAML::Node& v, const std::string& what) {
  if (!v || !v.IsScalar() || v.Scalar().empty())
    Bad(what + " must be a non-empty string");
  return v.Scalar();
}

}  // namespace

Settings ParseSettings(const std::string& yaml) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    Bad(std::string("settings are not YAML: ") + e.what());
  }
  if (!node || node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap()) Bad("settings must be a mapping");
  Settings s;
  YAML::Node command = node["command"];
  if (!command)
    Bad("`command:` is required: the worker to run (a path, relative to "
        "plugins.yaml's folder)");
  s.argv.push_back(Text(command, "`command:`"));
  if (YAML::Node args = node["args"]) {
    if (!args.IsSequence()) Bad("`args:` must be a list of strings");
    for (const auto& a : args) {
      if (!a.IsScalar()) Bad("`args:` must be a list of strings");
      s.argv.push_back(a.Scalar());
    }
  }
  s.timeout_s = Number(node, "timeout_s", 0.05, 86400.0, s.timeout_s);
  s.start_timeout_s =
      Number(node, "start_timeout_s", 0.05, 86400.0, s.start_timeout_s);
  s.max_line_bytes = Number<size_t>(node, "max_line_bytes", 1024,
                                    size_t(256) << 20, s.max_line_bytes);
  s.max_restarts = Number(node, "max_restarts", 0, 1000000, s.max_restarts);
  s.stderr_bytes =
      Number<size_t>(node, "stderr_bytes", 0, size_t(16) << 20, s.stderr_bytes);
  s.min_duration_s =
      Number(node, "min_duration_s", 0.0, 86400.0, s.min_duration_s);
  s.max_channels = Number<uint32_t>(node, "max_channels", 0, 64, 0);
  if (YAML::Node tiers = node["tier_sources"]) {
    if (!tiers.IsSequence())
      Bad("`tier_sources:` must be a list of {model, label, opposite}");
    for (const auto& t : tiers) {
      if (!t.IsMap())
        Bad("`tier_sources:` must be a list of {model, label, opposite}");
      TierSource ts;
      ts.model_id = Text(t["model"], "`tier_sources: model:`");
      ts.label = Text(t["label"], "`tier_sources: label:`");
      if (t["opposite"]) ts.opposite = Text(t["opposite"], "`opposite:`");
      s.tier_sources.push_back(ts);
    }
  }
  return s;
}

}  // namespace nomtag::external
