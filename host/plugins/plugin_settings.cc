#include "plugins/plugin_settings.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>

namespace nomtag {
namespace {

const nomtag_setting* Declared(const nomtag_plugin_entry& entry,
                               const std::string& key) {
  for (size_t i = 0; i < entry.settings_count; ++i)
    if (entry.settings[i].name && key == entry.settings[i].name)
      return &entry.settings[i];
  return nullptr;
}

}  // namespace

std::string UrlScheme(const std::string& value) {
  auto in_scheme = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
           c == '-' || c == '.';
  };
  if (value.empty() || !std::isalpha(static_cast<unsigned char>(value[0])))
    return "";
  size_t i = 1;
  while (i < value.size() && in_scheme(value[i])) ++i;
  if (value.compare(i, 3, "://") != 0) return "";
  std::string scheme = value.substr(0, i);
  for (char& c : scheme) c = static_cast<char>(std::tolower(c));
  return scheme;
}

Status CheckSettings(const PluginSpec& spec, const nomtag_plugin_entry& entry,
                     std::string* settings_yaml) {
  if (!NOMTAG_HAS_FIELD(&entry, nomtag_plugin_entry, settings_count) ||
      entry.settings == nullptr)
    return Status::OK();
  std::string takes;
  for (size_t i = 0; i < entry.settings_count; ++i)
    takes += (takes.empty() ? "" : ", ") + std::string(entry.settings[i].name);
  for (const auto& [key, line] : spec.setting_lines)
    if (!Declared(entry, key))
      return Status::InvalidArgument(
          spec.source + ":" + std::to_string(line) + ": unknown setting `" +
          key + "` for plugin '" + entry.id +
          "' (it takes: " + (takes.empty() ? "none" : takes) + ")");
  if (settings_yaml->empty()) return Status::OK();
  YAML::Node node;
  try {
    node = YAML::Load(*settings_yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(spec.source + ": settings of plugin '" +
                                   entry.id + "': " + e.what());
  }
  if (!node.IsMap())
    return Status::InvalidArgument(
        spec.source + ":" + std::to_string(spec.line) +
        ": the settings of plugin '" + entry.id + "' must be a mapping");
  for (auto kv : node) {
    const nomtag_setting* decl = Declared(entry, kv.first.as<std::string>());
    if (!decl || decl->kind != NOMTAG_SETTING_PATH || !kv.second.IsScalar())
      continue;
    std::filesystem::path p(kv.second.as<std::string>());
    if (!UrlScheme(p.string()).empty()) continue;
    if (!p.empty() && p.is_relative() && !spec.base_dir.empty())
      kv.second = (std::filesystem::path(spec.base_dir) / p)
                      .lexically_normal()
                      .string();
  }
  YAML::Emitter out;
  out << node;
  *settings_yaml = out.c_str();
  return Status::OK();
}

}  // namespace nomtag
