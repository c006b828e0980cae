// Fuzzes the plugins.yaml parser: any text must give a config or a Status,
// never a crash, an exception or a hang.
#include <cstdint>
#include <string>

#include "plugins/plugin_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = nomtag::ParsePluginConfig(text, "fuzz.yaml", "/base");
  if (config.ok()) {
    for (const auto& p : config->plugins)
      if (p.name.empty() == p.path.empty()) __builtin_trap();
  }
  return 0;
}
