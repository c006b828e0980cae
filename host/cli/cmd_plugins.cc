// nomtag plugins: what loaded, and what was refused and why.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "report/json_text.h"

namespace nomtag::cli {
namespace {

struct PluginsArgs {
  bool json = false;
};

std::string Abi(const nomtag_plugin_entry& e) {
  return std::to_string(e.abi_major) + "." + std::to_string(e.abi_minor);
}

std::vector<std::string> FormatsOf(const PluginRegistry& reg,
                                   const std::string& id) {
  for (const auto& f : reg.formats())
    if (f.plugin_id() == id) return f.extensions();
  return {};
}

int Run(const GlobalOptions& opts, const PluginsArgs& args) {
  if (opts.verbose) setenv("NOMTAG_VERBOSE", "1", 1);
  PluginRegistry reg;
  if (Status s = LoadPlugins(opts, &reg); !s.ok()) return Fail(s);

  if (args.json) {
    nlohmann::json out;
    out["loaded"] = nlohmann::json::array();
    for (const auto& p : reg.plugins()) {
      const auto& e = p->entry();
      out["loaded"].push_back({{"id", e.id},
                               {"name", e.name},
                               {"kind", KindName(e.kind)},
                               {"version", e.version},
                               {"abi", Abi(e)},
                               {"file", p->path()},
                               {"formats", FormatsOf(reg, e.id)}});
    }
    out["refused"] = nlohmann::json::array();
    for (const auto& r : reg.refused())
      out["refused"].push_back({{"plugin", r.label},
                                {"file", r.path},
                                {"line", r.line},
                                {"reason", r.reason}});
    PrintJson(out);
    return reg.refused().empty() ? 0 : 2;
  }

  std::printf("%zu plugin(s) loaded\n", reg.plugins().size());
  for (const auto& p : reg.plugins()) {
    const auto& e = p->entry();
    std::string formats;
    for (const auto& x : FormatsOf(reg, e.id))
      formats += (formats.empty() ? "" : ",") + x;
    std::printf("  %-28s %-9s %-8s ABI %-5s %s%s%s\n", e.id, KindName(e.kind),
                e.version, Abi(e).c_str(), p->path().c_str(),
                formats.empty() ? "" : "  formats: ", formats.c_str());
  }
  if (!reg.refused().empty()) {
    std::printf("%zu plugin(s) refused\n", reg.refused().size());
    for (const auto& r : reg.refused())
      std::printf("  %s (line %d): %s\n", r.label.c_str(), r.line,
                  r.reason.c_str());
  }
  // Refusals are reported, and the exit status says so, but the loaded
  // plugins stay usable.
  return reg.refused().empty() ? 0 : 2;
}

}  // namespace

void AddPluginsCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code) {
  auto args = std::make_shared<PluginsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plugins",
      "List the plugins plugins.yaml loads: id, kind, version, ABI, file and "
      "the formats each handles; and those refused, with the reason. Exit "
      "status 2 when any was refused.");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
