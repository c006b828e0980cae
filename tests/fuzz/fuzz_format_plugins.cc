// Fuzzes every format plugin's read path, and read → write → verify, on
// mutated files: the first byte picks the plugin, the rest is the file.
// Whatever the bytes, a plugin must answer with a status — never crash,
// hang or write out of bounds — and a build that verifies must read back
// as desired.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/overlay_stream.h"
#include "plugins/plugin_registry.h"
#include "write/verified_build.h"

namespace {

const std::vector<nomtag::FormatPlugin>& Formats() {
  static nomtag::PluginRegistry* reg = [] {
    auto* r = new nomtag::PluginRegistry;
    nomtag::PluginConfig config;
    for (const char* name : {"format-mp3", "format-flac", "format-ogg-vorbis",
                             "format-opus", "format-mp4"})
      config.plugins.push_back({name, "", "", 0, {}, "", ""});
    r->LoadAll(config, {NOMTAG_FUZZ_PLUGIN_DIR});
    if (r->formats().size() != 5) std::abort();  // a broken build, not a find
    return r;
  }();
  return reg->formats();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const nomtag::FormatPlugin& format = Formats()[data[0] % Formats().size()];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  nomtag::MemorySource source(&bytes, "fuzz");
  nomtag::OverlayStream original(&source, /*read_only=*/true);
  (void)format.Probe(*original.stream());
  (void)format.ReadNamespace(*original.stream());
  (void)format.ReadForeign(*original.stream());
  (void)format.ReadPayload(*original.stream());

  nomtag::OverlayStream edited(&source, /*read_only=*/false);
  nomtag::TagSet desired = {{"mood-strict", {"happy"}},
                            {"bpm", {"120", "121"}}};
  auto built =
      nomtag::BuildVerified(format, original, edited, desired, 0, "fuzz");
  if (built.ok() && !built->unchanged) {
    auto again = format.ReadNamespace(*edited.stream());
    if (!again.ok() || again->tags != desired) __builtin_trap();
  }
  return 0;
}
