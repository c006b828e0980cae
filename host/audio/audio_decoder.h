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

struct SwrContext;  // libswresample's

namespace nomtag {

struct AudioSourceInfo {
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  double duration_s = 0;  // from the container; 0 when unknown
};

class AudioDecoder {
 public:
  static Result<std::unique_ptr<AudioDecoder>> Open(const std::string& path);
  ~AudioDecoder();

  const AudioSourceInfo& info() const { return info_; }

  // The next block of interleaved float frames (info().channels per frame)
  // into *block; false at the end of the stream. A decode error is an
  // error with the position it happened at.
  Result<bool> Next(std::vector<float>* block);

  // Frames handed out so far.
  uint64_t frames_out() const { return frames_out_; }

 private:
  struct Impl;
  explicit AudioDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  AudioSourceInfo info_;
  uint64_t frames_out_ = 0;
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
  ~AudioConverter();

  uint32_t rate() const { return rate_; }
  uint32_t channels() const { return channels_; }

  // Converts one block (source frames) into *out (replacing it); with
  // flush set and an empty input, drains the resampler.
  Status Convert(const std::vector<float>& in, bool flush,
                 std::vector<float>* out);

 private:
  AudioConverter() = default;
  uint32_t source_channels_ = 0, source_rate_ = 0;
  uint32_t rate_ = 0, channels_ = 0;
  ::SwrContext* swr_ = nullptr;
  std::vector<float> mixed_;
};

}  // namespace nomtag

#endif  // NOMTAG_AUDIO_AUDIO_DECODER_H_
