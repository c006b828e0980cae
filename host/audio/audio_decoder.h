// AudioDecoder: one audio file decoded with FFmpeg (libavformat,
// libavcodec, libswresample) into interleaved float blocks.
//
// The file is opened read-only and decoded as a stream: Next() hands out
// one block at a time (about a second of audio), so memory stays bounded
// whatever the file's length. Every sample format is converted to float
// at the file's own rate and channel count; mixing and resampling to
// what a plugin wants is AudioConverter's job.
//
// Errors are values with a reason fit for `status` ("not an audio file",
// "no audio stream", "decode error at 12.3 s: ...").
//
// Thread contract: one decoder per thread.
#ifndef NOMTAG_AUDIO_AUDIO_DECODER_H_
#define NOMTAG_AUDIO_AUDIO_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace nomtag {

struct AudioSourceInfo {
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  double duration_s = 0;  // from the container; 0 when unknown
};

// Audio in, as the analyzer reads it. Both classes are implemented with
// FFmpeg in a module of their own (ffmpeg_audio.cc, libnomtag-audio.so
// beside the plugins), loaded on the first Open or Create: FFmpeg brings
// about 130 shared libraries, and a command that only writes tags should
// not spend 40 ms loading them at every start (audio_module.h).
class AudioDecoder {
 public:
  // The module cannot be loaded: Unsupported, naming the file and why.
  static Result<std::unique_ptr<AudioDecoder>> Open(const std::string& path);
  virtual ~AudioDecoder() = default;

  virtual const AudioSourceInfo& info() const = 0;

  // The next block of interleaved float frames (info().channels per frame)
  // into *block; false at the end of the stream. A decode error is an
  // error with the position it happened at.
  virtual Result<bool> Next(std::vector<float>* block) = 0;

  // Frames handed out so far.
  virtual uint64_t frames_out() const = 0;
};

// Turns the decoder's native float frames into what a plugin wants: its
// channel count (1: 0.5·(L+R) in float — the mean of all channels for
// more than two; 2: mono duplicated) and sample rate (libswresample).
class AudioConverter {
 public:
  // want_rate 0: keep the source's; want_channels 0: keep the source's.
  static Result<std::unique_ptr<AudioConverter>> Create(
      const AudioSourceInfo& source, uint32_t want_rate,
      uint32_t want_channels);
  virtual ~AudioConverter() = default;

  virtual uint32_t rate() const = 0;
  virtual uint32_t channels() const = 0;

  // Converts one block (source frames) into *out (replacing it); with
  // flush set and an empty input, drains the resampler.
  virtual Status Convert(const std::vector<float>& in, bool flush,
                         std::vector<float>* out) = 0;
};

}  // namespace nomtag

#endif  // NOMTAG_AUDIO_AUDIO_DECODER_H_
