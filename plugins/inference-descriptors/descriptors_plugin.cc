// The built-in default inference plugin: musical descriptors computed from
// the decoded audio, no model weights (descriptor_analysis.h says what and
// how). It streams: the host hands it blocks of native-rate float audio
// and it keeps only running sums, so a 2-hour file costs what a 2-minute
// one does in memory.
#include <aubio/aubio.h>
#include <nomtag/inference.h>

#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <string>

#include "descriptor_analysis.h"

namespace {

using nomtag::descriptors::DescriptorAnalysis;
using nomtag::sdk::Error;
using nomtag::sdk::guard;

struct Session {};  // no settings yet

struct Run {
  std::unique_ptr<DescriptorAnalysis> analysis;
};

nomtag_status Init(const nomtag_host*, const char*, size_t, nomtag_error*) {
  return NOMTAG_OK;
}

// aubio's FFT (FFTW) keeps its plans cached for the process; once the
// host unloads the plugin nothing could reach them, so they are freed
// here, after the last session closed.
void Deinit() { aubio_cleanup(); }

nomtag_status Open(const char*, size_t, void** out, nomtag_error* err) {
  return guard(err, [&] { *out = new Session(); });
}

void Close(void* session) { delete static_cast<Session*>(session); }

nomtag_status Report(const nomtag::descriptors::Results& r,
                     const nomtag_inference_sink* sink, nomtag_error* err) {
  for (const auto& [name, value] : r.descriptors) {
    nomtag_status st =
        sink->descriptor(sink->ctx, name.data(), name.size(), value);
    if (st != NOMTAG_OK)
      return nomtag::sdk::set_error(err, "host sink refused"), st;
  }
  bool spread =
      NOMTAG_HAS_FIELD(sink, nomtag_inference_sink, head_with_spread) &&
      sink->head_with_spread;
  for (const auto& h : r.heads) {
    nomtag_status st =
        spread ? sink->head_with_spread(sink->ctx, h.model_id.data(),
                                        h.model_id.size(), h.label.data(),
                                        h.label.size(), h.score, h.spread)
               : sink->head(sink->ctx, h.model_id.data(), h.model_id.size(),
                            h.label.data(), h.label.size(), h.score);
    if (st != NOMTAG_OK)
      return nomtag::sdk::set_error(err, "host sink refused"), st;
  }
  return NOMTAG_OK;
}

nomtag_status AnalyzeFile(void*, const char*, const nomtag_stream*,
                          const nomtag_inference_sink*, nomtag_error* err) {
  nomtag::sdk::set_error(err, "this plugin analyses decoded audio only");
  return NOMTAG_ERR_UNSUPPORTED;
}

nomtag_status AnalyzeAudio(void*, const nomtag_audio* audio,
                           const nomtag_inference_sink* sink,
                           nomtag_error* err) {
  nomtag::descriptors::Results r;
  nomtag_status st = guard(err, [&] {
    DescriptorAnalysis a(audio->sample_rate, audio->channels);
    a.Feed(audio->samples, audio->frame_count);
    r = a.Finish();
  });
  return st != NOMTAG_OK ? st : Report(r, sink, err);
}

nomtag_status AudioBegin(void*, const nomtag_audio_format* fmt, void** out,
                         nomtag_error* err) {
  return guard(err, [&] {
    auto run = std::make_unique<Run>();
    try {
      run->analysis =
          std::make_unique<DescriptorAnalysis>(fmt->sample_rate, fmt->channels);
    } catch (const std::runtime_error& e) {
      throw Error(NOMTAG_ERR_UNSUPPORTED, e.what());
    }
    *out = run.release();
  });
}

nomtag_status AudioBlock(void* run, const float* samples, uint64_t frames,
                         nomtag_error* err) {
  return guard(
      err, [&] { static_cast<Run*>(run)->analysis->Feed(samples, frames); });
}

nomtag_status AudioEnd(void* run_ptr, const nomtag_inference_sink* sink,
                       nomtag_error* err) {
  std::unique_ptr<Run> run(static_cast<Run*>(run_ptr));
  nomtag::descriptors::Results r;
  nomtag_status st = guard(err, [&] { r = run->analysis->Finish(); });
  return st != NOMTAG_OK ? st : Report(r, sink, err);
}

void AudioAbort(void* run) { delete static_cast<Run*>(run); }

const nomtag_tier_source kTierSources[] = {
    {sizeof(nomtag_tier_source), "descriptors-energy/1", "energetic", "calm"},
    {sizeof(nomtag_tier_source), "descriptors-energy/1", "calm", "energetic"},
    {sizeof(nomtag_tier_source), "descriptors-brightness/1", "bright", "dark"},
    {sizeof(nomtag_tier_source), "descriptors-brightness/1", "dark", "bright"},
    {sizeof(nomtag_tier_source), "descriptors-tempo/1", "fast", "slow"},
    {sizeof(nomtag_tier_source), "descriptors-tempo/1", "slow", "fast"},
};

const nomtag_inference kInference = {
    sizeof(nomtag_inference),
    1,  // concurrent_analyze: runs share nothing
    Open,
    AnalyzeFile,
    AnalyzeAudio,
    Close,
    0,  // audio_sample_rate: native
    NOMTAG_AUDIO_NATIVE,
    2,    // max_channels: loudness weighting beyond stereo is not done
    5.0,  // min_duration_s: the beat tracker needs a few beats
    kTierSources,
    sizeof kTierSources / sizeof kTierSources[0],
    AudioBegin,
    AudioBlock,
    AudioEnd,
    AudioAbort,
};

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_INFERENCE_INTERFACE_ID)
             ? &kInference
             : nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_INFERENCE, "org.nomtag.inference.descriptors",
              "Descriptors (tempo, loudness, brightness; no model)", "1.0.0",
              Init, Deinit, GetInterface)
