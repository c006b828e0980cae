#include "format_under_test.h"

#include <gtest/gtest.h>

#include <memory>

#include "plugins/plugin_registry.h"
#include "support/memory_stream.h"

namespace nomtag::testing {
namespace {

PluginRegistry& Registry() {
  static PluginRegistry* registry = [] {
    auto* r = new PluginRegistry();
    for (const char* name : {"format-mp3", "format-mp4", "format-flac",
                             "format-ogg-vorbis", "format-opus"}) {
      PluginSpec spec;
      spec.name = name;
      r->LoadOne(spec, std::string(NOMTAG_TEST_PLUGIN_DIR) + "/nomtag-" + name +
                           ".so");
    }
    return r;
  }();
  return *registry;
}

}  // namespace

const FormatPlugin* LoadedFormat(const std::string& container) {
  for (const FormatPlugin& f : Registry().formats())
    if (f.container() == container) return &f;
  std::string why;
  for (const auto& r : Registry().refused())
    why += r.label + ": " + r.reason + "\n";
  ADD_FAILURE() << "format plugin for " << container << " not loaded\n" << why;
  return nullptr;
}

FileView View(const FormatPlugin& plugin, const std::vector<uint8_t>& bytes) {
  MemoryStream mem(bytes, "view", /*read_only=*/true);
  FileView v;
  auto ns = plugin.ReadNamespace(mem.stream());
  if (!ns.ok()) {
    v.status = ns.status();
    return v;
  }
  v.ns = *ns;
  auto foreign = plugin.ReadForeign(mem.stream());
  if (!foreign.ok()) {
    v.status = foreign.status();
    return v;
  }
  v.foreign = *foreign;
  auto payload = plugin.ReadPayload(mem.stream());
  if (!payload.ok()) {
    v.status = payload.status();
    return v;
  }
  // Ranges resolve to their bytes (their offsets may move); each part is
  // length-prefixed so a different split cannot compare equal by accident.
  for (const PayloadPart& part : *payload) {
    std::string data = part.bytes;
    if (part.is_range) {
      EXPECT_LE(part.offset + part.length, bytes.size());
      if (part.offset + part.length > bytes.size()) break;
      data.assign(bytes.begin() + part.offset,
                  bytes.begin() + part.offset + part.length);
    }
    v.payload +=
        (part.is_range ? "R" : "B") + std::to_string(data.size()) + ":" + data;
  }
  return v;
}

Result<std::vector<uint8_t>> Write(const FormatPlugin& plugin,
                                   const std::vector<uint8_t>& bytes,
                                   const TagSet& desired, uint32_t padding) {
  MemoryStream mem(bytes, "write");
  Status st = plugin.WriteNamespace(mem.stream(), desired, padding);
  if (!st.ok()) return st;
  return mem.bytes();
}

}  // namespace nomtag::testing
