// The audio module (audio_module.h): AudioDecoder and AudioConverter with
// FFmpeg. Built into libnomtag-audio.so, the only part of nomtag that
// links FFmpeg.
#include "audio/audio_module.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <cstdio>

namespace nomtag {
namespace {

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

// Frames per block handed out: about a second at common rates.
constexpr uint64_t kBlockFrames = 48000;

struct DecoderState {
  AVFormatContext* fmt = nullptr;
  AVCodecContext* codec = nullptr;
  SwrContext* swr = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  int stream = -1;
  uint32_t channels = 0;
  bool draining = false;  // the demuxer is at its end; flushing the codec
  bool done = false;
  std::string path;

  ~DecoderState() {
    av_frame_free(&frame);
    av_packet_free(&packet);
    swr_free(&swr);
    avcodec_free_context(&codec);
    avformat_close_input(&fmt);
  }

  // Appends the frame's samples as float to *out.
  Status Append(std::vector<float>* out) {
    if (swr == nullptr) {
      AVChannelLayout layout;
      if (av_channel_layout_copy(&layout, &frame->ch_layout) < 0 ||
          layout.nb_channels <= 0)
        av_channel_layout_default(&layout, static_cast<int>(channels));
      int rc = swr_alloc_set_opts2(&swr, &layout, AV_SAMPLE_FMT_FLT,
                                   frame->sample_rate, &layout,
                                   static_cast<AVSampleFormat>(frame->format),
                                   frame->sample_rate, 0, nullptr);
      av_channel_layout_uninit(&layout);
      if (rc < 0 || swr_init(swr) < 0)
        return Status::Unsupported("cannot convert this sample format");
    }
    if (frame->ch_layout.nb_channels != static_cast<int>(channels))
      return Status::Unsupported("the channel count changes mid-stream");
    size_t at = out->size();
    out->resize(at + static_cast<size_t>(frame->nb_samples) * channels);
    uint8_t* dst = reinterpret_cast<uint8_t*>(out->data() + at);
    int got = swr_convert(swr, &dst, frame->nb_samples,
                          const_cast<const uint8_t**>(frame->extended_data),
                          frame->nb_samples);
    if (got < 0) return Status::Corrupt("sample conversion failed");
    out->resize(at + static_cast<size_t>(got) * channels);
    return Status::OK();
  }

  double Seconds() const {
    if (fmt == nullptr || stream < 0) return 0;
    AVStream* s = fmt->streams[stream];
    return frame && frame->pts != AV_NOPTS_VALUE
               ? frame->pts * av_q2d(s->time_base)
               : 0;
  }
};

class FfmpegDecoder final : public AudioDecoder {
 public:
  explicit FfmpegDecoder(std::unique_ptr<DecoderState> impl)
      : impl_(std::move(impl)) {}
  const AudioSourceInfo& info() const override { return info_; }
  Result<bool> Next(std::vector<float>* block) override;
  uint64_t frames_out() const override { return frames_out_; }

  std::unique_ptr<DecoderState> impl_;
  AudioSourceInfo info_;
  uint64_t frames_out_ = 0;
};

Result<std::unique_ptr<AudioDecoder>> OpenDecoder(const std::string& path) {
  av_log_set_level(AV_LOG_QUIET);  // errors come back as values
  auto impl = std::make_unique<DecoderState>();
  impl->path = path;
  // "file:" keeps a name with a colon from being read as another protocol;
  // the file protocol opens it read-only.
  int rc = avformat_open_input(&impl->fmt, ("file:" + path).c_str(), nullptr,
                               nullptr);
  if (rc < 0)
    return Status::Unsupported("not a readable audio file (" + AvError(rc) +
                               ")");
  rc = avformat_find_stream_info(impl->fmt, nullptr);
  if (rc < 0)
    return Status::Corrupt("cannot read the stream layout (" + AvError(rc) +
                           ")");
  const AVCodec* codec = nullptr;
  impl->stream =
      av_find_best_stream(impl->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (impl->stream < 0 || codec == nullptr)
    return Status::Unsupported(impl->stream == AVERROR_DECODER_NOT_FOUND
                                   ? "no decoder for its audio codec"
                                   : "no audio stream");
  AVStream* st = impl->fmt->streams[impl->stream];
  impl->codec = avcodec_alloc_context3(codec);
  if (impl->codec == nullptr ||
      avcodec_parameters_to_context(impl->codec, st->codecpar) < 0)
    return Status::Internal("cannot set up the decoder");
  impl->codec->thread_count = 1;  // workers parallelise across files
  rc = avcodec_open2(impl->codec, codec, nullptr);
  if (rc < 0)
    return Status::Unsupported("cannot open the decoder (" + AvError(rc) + ")");
  impl->packet = av_packet_alloc();
  impl->frame = av_frame_alloc();
  if (!impl->packet || !impl->frame) return Status::Internal("out of memory");
  impl->channels = static_cast<uint32_t>(impl->codec->ch_layout.nb_channels);
  if (impl->channels == 0 || impl->codec->sample_rate <= 0)
    return Status::Corrupt("the audio stream declares no channels or rate");

  auto dec = std::make_unique<FfmpegDecoder>(std::move(impl));
  AudioSourceInfo& info = dec->info_;
  info.sample_rate = static_cast<uint32_t>(dec->impl_->codec->sample_rate);
  info.channels = dec->impl_->channels;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    info.duration_s = st->duration * av_q2d(st->time_base);
  else if (dec->impl_->fmt->duration > 0)
    info.duration_s = double(dec->impl_->fmt->duration) / AV_TIME_BASE;
  return std::unique_ptr<AudioDecoder>(std::move(dec));
}

Result<bool> FfmpegDecoder::Next(std::vector<float>* block) {
  DecoderState& d = *impl_;
  block->clear();
  auto fail = [&](const std::string& what, int rc) {
    char at[32];
    std::snprintf(at, sizeof at, "%.1f", d.Seconds());
    return Status::Corrupt("decode error at " + std::string(at) +
                           " s: " + what + " (" + AvError(rc) + ")");
  };
  while (!d.done && block->size() < kBlockFrames * d.channels) {
    int rc = avcodec_receive_frame(d.codec, d.frame);
    if (rc == 0) {
      Status s = d.Append(block);
      av_frame_unref(d.frame);
      if (!s.ok()) return s;
      continue;
    }
    if (rc == AVERROR_EOF) {
      d.done = true;
      break;
    }
    if (rc != AVERROR(EAGAIN)) return fail("the decoder failed", rc);
    if (d.draining) {
      d.done = true;
      break;
    }
    // The decoder wants input: the next packet of our stream.
    for (;;) {
      rc = av_read_frame(d.fmt, d.packet);
      if (rc == AVERROR_EOF) {
        d.draining = true;
        avcodec_send_packet(d.codec, nullptr);
        break;
      }
      if (rc < 0) return fail("reading failed", rc);
      if (d.packet->stream_index != d.stream) {
        av_packet_unref(d.packet);
        continue;
      }
      rc = avcodec_send_packet(d.codec, d.packet);
      av_packet_unref(d.packet);
      if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_INVALIDDATA)
        return fail("the decoder refused a packet", rc);
      break;
    }
  }
  frames_out_ += block->size() / d.channels;
  return !block->empty();
}

class FfmpegConverter final : public AudioConverter {
 public:
  ~FfmpegConverter() override { swr_free(&swr_); }
  uint32_t rate() const override { return rate_; }
  uint32_t channels() const override { return channels_; }
  Status Convert(const std::vector<float>& in, bool flush,
                 std::vector<float>* out) override;

  uint32_t source_channels_ = 0, source_rate_ = 0;
  uint32_t rate_ = 0, channels_ = 0;
  SwrContext* swr_ = nullptr;
  std::vector<float> mixed_;
};

Result<std::unique_ptr<AudioConverter>> CreateConverter(
    const AudioSourceInfo& source, uint32_t want_rate, uint32_t want_channels) {
  auto c = std::make_unique<FfmpegConverter>();
  c->source_channels_ = source.channels;
  c->source_rate_ = source.sample_rate;
  c->channels_ = want_channels == 0 ? source.channels : want_channels;
  c->rate_ = want_rate == 0 ? source.sample_rate : want_rate;
  if (c->channels_ > 2 && c->channels_ != source.channels)
    return Status::Unsupported("a plugin may ask for 1 or 2 channels only");
  if (c->rate_ != source.sample_rate) {
    AVChannelLayout layout;
    av_channel_layout_default(&layout, static_cast<int>(c->channels_));
    int rc = swr_alloc_set_opts2(
        &c->swr_, &layout, AV_SAMPLE_FMT_FLT, static_cast<int>(c->rate_),
        &layout, AV_SAMPLE_FMT_FLT, static_cast<int>(source.sample_rate), 0,
        nullptr);
    av_channel_layout_uninit(&layout);
    if (rc < 0 || swr_init(c->swr_) < 0)
      return Status::Unsupported("cannot resample " +
                                 std::to_string(source.sample_rate) +
                                 " Hz to " + std::to_string(c->rate_) + " Hz");
  }
  return std::unique_ptr<AudioConverter>(std::move(c));
}

Status FfmpegConverter::Convert(const std::vector<float>& in, bool flush,
                                std::vector<float>* out) {
  // Channels first, in float: the mix the original system uses.
  const std::vector<float>* src = &in;
  if (channels_ != source_channels_) {
    size_t frames = in.size() / source_channels_;
    mixed_.resize(frames * channels_);
    for (size_t i = 0; i < frames; ++i) {
      const float* f = &in[i * source_channels_];
      if (channels_ == 1) {
        if (source_channels_ == 2) {
          mixed_[i] = 0.5f * (f[0] + f[1]);
        } else {
          float sum = 0;
          for (uint32_t c = 0; c < source_channels_; ++c) sum += f[c];
          mixed_[i] = sum / static_cast<float>(source_channels_);
        }
      } else {  // mono to stereo
        mixed_[2 * i] = mixed_[2 * i + 1] = f[0];
      }
    }
    src = &mixed_;
  }
  if (swr_ == nullptr) {
    if (src == &in)
      *out = in;
    else
      out->swap(mixed_);
    return Status::OK();
  }
  int in_frames = static_cast<int>(src->size() / channels_);
  int cap = swr_get_out_samples(swr_, in_frames) + 16;
  out->resize(static_cast<size_t>(cap) * channels_);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->data());
  const uint8_t* from = reinterpret_cast<const uint8_t*>(src->data());
  int got = swr_convert(swr_, &dst, cap,
                        flush && in_frames == 0 ? nullptr : &from, in_frames);
  if (got < 0) return Status::Internal("resampling failed");
  out->resize(static_cast<size_t>(got) * channels_);
  return Status::OK();
}

const AudioModule kModule{kAudioModuleLayout, OpenDecoder, CreateConverter};

}  // namespace
}  // namespace nomtag

extern "C" __attribute__((visibility("default"))) const nomtag::AudioModule*
nomtag_audio_module() {
  return &nomtag::kModule;
}
