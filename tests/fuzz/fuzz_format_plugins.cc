// Fuzzes every format plugin's read path, and read → write → verify, on
// mutated files: the first byte picks the plugin, the rest is the file.
// Whatever the bytes, a plugin must answer with a status — never crash,
// hang or write out of bounds — and a build that verifies must hold up
// where BuildVerified did not look: the new bytes, taken out of the
// overlay into a buffer of their own, read back as desired with the same
// foreign items as the original's own bytes; the audio bytes the payload
// names (or, where the exact payload cannot be read, the coarse one) are
// the same bytes, compared here; and a second build of the same
// set changes nothing. For FLAC, MP3 and MP4 the harness also walks the raw
// bytes itself (raw_view.h), so a plugin whose reader and writer agree on
// a mistake (a block both skip) is still caught: the foreign bytes must
// be the original's, and our keys and values as desired.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/overlay_stream.h"
#include "plugins/plugin_registry.h"
#include "raw_view.h"
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

// Every byte of a stream, read out of it.
std::string Materialize(nomtag::OverlayStream& o) {
  std::string out(o.length(), '\0');
  size_t got = 0;
  if (!o.Read(0, out.data(), out.size(), &got).ok() || got != out.size())
    __builtin_trap();
  return out;
}

// The audio as bytes: the payload parts of a stream, resolved on the
// buffer by the harness itself; with `coarse`, the coarse description
// (NOMTAG_PAYLOAD_COARSE_OK) where the format gives one.
std::optional<std::string> AudioBytes(const nomtag::FormatPlugin& format,
                                      const std::string& bytes,
                                      bool coarse = false) {
  nomtag::MemorySource source(&bytes, "fuzz-fresh");
  nomtag::OverlayStream o(&source, /*read_only=*/true);
  auto parts = format.ReadPayload(*o.stream(), coarse);
  if (!parts.ok()) return std::nullopt;
  std::string out;
  for (const auto& p : *parts) {
    if (!p.is_range) {
      out += p.bytes;
    } else {
      if (p.offset > bytes.size() || p.length > bytes.size() - p.offset)
        __builtin_trap();  // a payload range outside the file
      out.append(bytes, p.offset, p.length);
    }
  }
  return out;
}

// The new bytes, in a buffer of their own, judged against the original's.
void CheckFresh(const nomtag::FormatPlugin& format, const std::string& before,
                const std::string& after, const nomtag::TagSet& desired) {
  nomtag::MemorySource old_src(&before, "fuzz-before");
  nomtag::OverlayStream old_o(&old_src, /*read_only=*/true);
  nomtag::MemorySource new_src(&after, "fuzz-after");
  nomtag::OverlayStream new_o(&new_src, /*read_only=*/true);
  auto ns = format.ReadNamespace(*new_o.stream());
  if (!ns.ok() || ns->tags != desired) __builtin_trap();
  auto foreign_before = format.ReadForeign(*old_o.stream());
  auto foreign_after = format.ReadForeign(*new_o.stream());
  if (!foreign_before.ok() || !foreign_after.ok() ||
      *foreign_before != *foreign_after)
    __builtin_trap();
  // The audio: the exact payload where the original's can be read. Where
  // it cannot (an Ogg page deep in the audio no reader parses), the write
  // can only have been proven by the mapping of the coarse description,
  // which promises more: every byte it names is the same byte.
  auto audio_before = AudioBytes(format, before);
  auto audio_after = AudioBytes(format, after);
  if (audio_before) {
    if (!audio_after || *audio_before != *audio_after) __builtin_trap();
  } else {
    auto coarse_before = AudioBytes(format, before, /*coarse=*/true);
    auto coarse_after = AudioBytes(format, after, /*coarse=*/true);
    if (!coarse_before || !coarse_after || *coarse_before != *coarse_after)
      __builtin_trap();
  }
  // By the harness's own walk of the bytes, not the plugin's reader.
  std::string why;
  const nomtag::fuzz::Judged judged =
      nomtag::fuzz::CompareForeign(format.container(), before, after, &why);
  if (judged == nomtag::fuzz::Judged::kDifferent) {
    std::fprintf(stderr, "raw view (%s): %s\n", format.container().c_str(),
                 why.c_str());
    __builtin_trap();
  }
  if (judged == nomtag::fuzz::Judged::kSame) {
    auto ours = nomtag::fuzz::OursRaw(format.container(), after);
    if (ours && *ours != desired) {
      std::fprintf(stderr, "raw view (%s): our keys are not as desired\n",
                   format.container().c_str());
      __builtin_trap();
    }
  }
  // A fixed point: the same set again is no change.
  nomtag::OverlayStream again(&new_src, /*read_only=*/false);
  auto second = nomtag::BuildVerified(format, new_o, again, desired, 0, "fuzz");
  if (!second.ok() || !second->unchanged) __builtin_trap();
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
    CheckFresh(format, bytes, Materialize(edited), desired);
  }
  return 0;
}
