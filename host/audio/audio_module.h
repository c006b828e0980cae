// The audio module: AudioDecoder and AudioConverter implemented with
// FFmpeg (ffmpeg_audio.cc), built as libnomtag-audio.so and loaded with
// dlopen on first use, so that only commands that decode audio (analyze,
// calibrate, the analysis benchmark) load FFmpeg's libraries.
//
// The module is part of nomtag, built with it and installed beside it
// (<prefix>/lib/nomtag/); it is not a plugin and has no stable ABI. Its
// one exported symbol returns the table below; `layout` guards against a
// module left from another build of a different shape.
#ifndef NOMTAG_AUDIO_AUDIO_MODULE_H_
#define NOMTAG_AUDIO_AUDIO_MODULE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "audio/audio_decoder.h"

namespace nomtag {

struct AudioModule {
  uint32_t layout;  // kAudioModuleLayout of the build that made it
  Result<std::unique_ptr<AudioDecoder>> (*open_decoder)(
      const std::string& path);
  Result<std::unique_ptr<AudioConverter>> (*create_converter)(
      const AudioSourceInfo& source, uint32_t want_rate,
      uint32_t want_channels);
};

// Bumped whenever AudioModule, AudioDecoder or AudioConverter change.
inline constexpr uint32_t kAudioModuleLayout = 1;

inline constexpr char kAudioModuleFile[] = "libnomtag-audio.so";
inline constexpr char kAudioModuleSymbol[] = "nomtag_audio_module";

// Loads the module once per process (thread-safe) from the folder above
// the bundled plugins, or from $NOMTAG_AUDIO_MODULE when set (for a build
// tree run from elsewhere). Unsupported, with the path and dlerror's
// reason, when it cannot be loaded; the same answer every time after.
Result<const AudioModule*> LoadAudioModule();

}  // namespace nomtag

#endif  // NOMTAG_AUDIO_AUDIO_MODULE_H_
