#include "plugins/plugin_config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace nomtag {
namespace {

namespace fs = std::filesystem;

Status Bad(const std::string& source, const YAML::Node& node,
           const std::string& what) {
  return Status::InvalidArgument(
      source + ":" + std::to_string(node.Mark().line + 1) + ": " + what);
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(base_dir) / path;
  return path.lexically_normal().string();
}

bool IsPlainName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
          c == '.'))
      return false;
  return true;
}

// The text of a mapping key, or an error when the key is not plain text.
Result<std::string> KeyText(const std::string& source, const YAML::Node& key) {
  if (!key.IsScalar()) return Bad(source, key, "keys must be plain text");
  return key.as<std::string>();
}

// Reads `tiers:` over the defaults in *rule.
Status ParseTiers(const YAML::Node& node, const std::string& source,
                  TierRule* rule) {
  if (!node.IsMap())
    return Bad(source, node,
               "`tiers` must be a mapping of strict, regular, loose");
  for (const auto& level : node) {
    std::string name = level.first.as<std::string>();
    TierLevel* l = name == "strict"    ? &rule->strict
                   : name == "regular" ? &rule->regular
                   : name == "loose"   ? &rule->loose
                                       : nullptr;
    if (l == nullptr)
      return Bad(source, level.first,
                 "unknown tier `" + name +
                     "` (expected strict, regular, "
                     "loose)");
    if (!level.second.IsMap())
      return Bad(source, level.second,
                 "a tier is a mapping of probability, ratio, gap, "
                 "max_spread");
    for (const auto& field : level.second) {
      std::string f = field.first.as<std::string>();
      double* v = f == "probability"  ? &l->probability
                  : f == "ratio"      ? &l->ratio
                  : f == "gap"        ? &l->gap
                  : f == "max_spread" ? &l->max_spread
                                      : nullptr;
      if (v == nullptr)
        return Bad(source, field.first,
                   "unknown tier field `" + f +
                       "` (expected probability, ratio, gap, max_spread)");
      double x = 0;
      if (!field.second.IsScalar() ||
          !YAML::convert<double>::decode(field.second, x) ||
          !(x >= -1 && x <= 1000))
        return Bad(source, field.second,
                   "`" + f + "` must be a number between -1 and 1000");
      *v = x;
    }
  }
  return Status::OK();
}

// Checks the shape of a loaded document. May throw YAML::Exception on a
// shape the checks do not foresee; the caller turns that into a Status.
Result<PluginConfig> ParseDocument(const YAML::Node& root,
                                   const std::string& source,
                                   const std::string& base_dir) {
  PluginConfig config;
  config.source = source;
  if (root.IsNull()) return config;  // an empty file loads nothing
  if (!root.IsMap())
    return Bad(source, root, "expected a mapping with a `plugins:` list");

  std::set<std::string> top;
  for (const auto& kv : root) {
    auto key_text = KeyText(source, kv.first);
    if (!key_text.ok()) return key_text.status();
    const std::string& key = *key_text;
    if (!top.insert(key).second)
      return Bad(source, kv.first, "`" + key + "` given twice");
    if (key == "plugin_dirs") {
      if (!kv.second.IsSequence())
        return Bad(source, kv.second, "`plugin_dirs` must be a list");
      for (const auto& d : kv.second) {
        if (!d.IsScalar())
          return Bad(source, d, "each plugin dir must be a path");
        config.plugin_dirs.push_back(Resolve(base_dir, d.as<std::string>()));
      }
    } else if (key == "plugins") {
      if (!kv.second.IsSequence() && !kv.second.IsNull())
        return Bad(source, kv.second, "`plugins` must be a list");
      for (const auto& p : kv.second) {
        if (!p.IsMap())
          return Bad(source, p,
                     "each plugin is a mapping with `name:` or `path:`");
        PluginSpec spec;
        spec.line = p.Mark().line + 1;
        spec.source = source;
        spec.base_dir = base_dir;
        std::set<std::string> given;
        for (const auto& field : p) {
          auto field_text = KeyText(source, field.first);
          if (!field_text.ok()) return field_text.status();
          const std::string& f = *field_text;
          // yaml-cpp keeps both of a duplicated key and lookups see the
          // first: say so rather than pick one.
          if (!given.insert(f).second)
            return Bad(source, field.first,
                       "`" + f + "` given twice in one plugin entry");
          if (f == "name" || f == "path") {
            if (!field.second.IsScalar())
              return Bad(source, field.second, "`" + f + "` must be text");
            std::string v = field.second.as<std::string>();
            if (f == "name") {
              if (!IsPlainName(v))
                return Bad(source, field.second,
                           "plugin name '" + v +
                               "' may hold only letters, digits, '-', '_' "
                               "and '.'; use `path:` for a file");
              spec.name = v;
            } else {
              spec.path = Resolve(base_dir, v);
            }
          } else if (f == "settings") {
            if (field.second.IsMap()) {
              std::set<std::string> keys;
              for (const auto& setting : field.second) {
                auto k = KeyText(source, setting.first);
                if (!k.ok()) return k.status();
                if (!keys.insert(*k).second)
                  return Bad(source, setting.first,
                             "setting `" + *k + "` given twice");
                spec.setting_lines.emplace_back(*k,
                                                setting.first.Mark().line + 1);
              }
            }
            YAML::Emitter out;
            out << field.second;
            spec.settings_yaml = field.second.IsNull() ? "" : out.c_str();
          } else {
            return Bad(source, field.first,
                       "unknown plugin field `" + f +
                           "` (expected name, path, settings)");
          }
        }
        if (spec.name.empty() == spec.path.empty())
          return Bad(source, p,
                     "a plugin needs exactly one of `name:` or "
                     "`path:`");
        config.plugins.push_back(std::move(spec));
      }
    } else if (key == "tiers") {
      if (Status st = ParseTiers(kv.second, source, &config.tiers); !st.ok())
        return st;
    } else if (key == "roots") {
      if (!kv.second.IsMap())
        return Bad(source, kv.second,
                   "`roots` must map library names to this machine's "
                   "folders");
      for (const auto& root : kv.second) {
        if (!root.first.IsScalar() || !root.second.IsScalar() ||
            root.second.as<std::string>().empty() ||
            root.second.as<std::string>()[0] != '/')
          return Bad(source, root.first,
                     "a root must be an absolute folder (library: /path)");
        config.roots[root.first.as<std::string>()] =
            root.second.as<std::string>();
      }
    } else {
      return Bad(source, kv.first,
                 "unknown key `" + key +
                     "` (expected plugin_dirs, plugins, tiers, roots)");
    }
  }
  return config;
}

}  // namespace

Result<PluginConfig> ParsePluginConfig(const std::string& text,
                                       const std::string& source,
                                       const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return Status::InvalidArgument(
        source + ":" + std::to_string(e.mark.line + 1) + ":" +
        std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    return ParseDocument(root, source, base_dir);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(
        source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<PluginConfig> LoadPluginConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::NotFound("cannot read plugin config " + path + ": " +
                            std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  fs::path base = fs::absolute(fs::path(path)).parent_path();
  return ParsePluginConfig(text.str(), path, base.string());
}

}  // namespace nomtag
