// The original system's music models in process: Essentia's MusiCNN
// backbone and its heads (ONNX files in the original's folder layout), run
// by nomtag's own executor (graph/) on the front-end and aggregation the
// original uses (frontend.h, aggregation.h), with no Python and no ONNX
// Runtime. Settings, read at load (plugins.yaml):
//
//   models: DIR            folder holding musicnn/embeddings/<one>.onnx and
//                          musicnn/heads/<type>/<stem>.onnx (required)
//   heads: [mood_happy, …] which heads to run (default: every file found)
//   labels: {head: [label of index 0, label of index 1]}
//                          (default: the original's table, see class_order)
//   class_order: published | original   (musicnn_heads.h says why the
//                          default is published)
//   min_duration_s: 60     shorter files are skipped, as the original does
//   threads: 1             threads per analysis (the executor's own; keep
//                          analysis workers x threads <= cores)
//
// A missing folder or model, a model that does not parse, or an operator
// the executor does not implement is a load-time error naming the file
// (and operator); the other plugins keep working.
#include <nomtag/inference.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "aggregation.h"
#include "frontend.h"
#include "model.h"
#include "musicnn_heads.h"

namespace {

namespace fs = std::filesystem;
using nomtag::musicnn::ClassOrder;
using nomtag::onnx::Model;
using nomtag::onnx::Tensor;
using nomtag::sdk::Error;
using nomtag::sdk::guard;

constexpr int kBatch = 32;  // backbone patches per run, as the original
constexpr int kEmbedding = 200;

struct ModelFile {
  std::string path, stem, bytes;
};

struct HeadConfig {
  ModelFile file;
  std::string name, model_id;
  std::vector<std::string> labels;
};

// Read once by Init, read-only afterwards.
struct Config {
  ModelFile backbone;
  std::vector<HeadConfig> heads;
  double min_duration_s = 60;
  int threads = 1;
};
Config config;

ModelFile ReadModel(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  if (in) bytes << in.rdbuf();
  if (!in || in.bad())
    throw Error(NOMTAG_ERR_SETTINGS, path.string() + ": cannot be read");
  // Checked now, so a model that cannot run refuses the plugin at load.
  std::string error;
  if (!Model::LoadFromBytes(bytes.str(), path.string(), &error))
    throw Error(NOMTAG_ERR_SETTINGS, error);
  return {path.string(), path.stem().string(), bytes.str()};
}

std::vector<fs::path> OnnxFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".onnx") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

Config ParseSettings(const std::string& text) {
  YAML::Node s;
  try {
    s = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(NOMTAG_ERR_SETTINGS, std::string("bad settings: ") + e.what());
  }
  auto setting = [&](const char* name) { return s[name]; };
  if (!s.IsMap() || !s["models"])
    throw Error(NOMTAG_ERR_SETTINGS,
                "models: the folder holding musicnn/ is required");
  Config c;
  ClassOrder order = ClassOrder::kPublished;
  try {
    if (auto n = setting("class_order")) {
      std::string v = n.as<std::string>();
      if (v == "original")
        order = ClassOrder::kOriginal;
      else if (v != "published")
        throw Error(NOMTAG_ERR_SETTINGS,
                    "class_order takes published or original, not " + v);
    }
    if (auto n = setting("min_duration_s")) {
      c.min_duration_s = n.as<double>();
      if (!(c.min_duration_s >= 0))
        throw Error(NOMTAG_ERR_SETTINGS, "min_duration_s must be >= 0");
    }
    if (auto n = setting("threads")) {
      c.threads = n.as<int>();
      if (c.threads < 1 || c.threads > 64)
        throw Error(NOMTAG_ERR_SETTINGS, "threads must be 1 to 64");
    }
    const fs::path root = fs::path(s["models"].as<std::string>()) / "musicnn";
    if (!fs::is_directory(root))
      throw Error(NOMTAG_ERR_SETTINGS, "models: " + root.string() +
                                           " is not a folder (the original's "
                                           "layout is <models>/musicnn/...)");
    auto backbones = OnnxFiles(root / "embeddings");
    if (backbones.size() != 1)
      throw Error(NOMTAG_ERR_SETTINGS, (root / "embeddings").string() +
                                           " must hold one .onnx file, "
                                           "not " +
                                           std::to_string(backbones.size()));
    c.backbone = ReadModel(backbones[0]);

    // Every head file found, by name; then the ones asked for.
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& type : fs::directory_iterator(root / "heads", ec))
      for (const auto& f : OnnxFiles(type.path())) found.push_back(f);
    std::vector<std::string> wanted;
    if (auto n = setting("heads"))
      wanted = n.as<std::vector<std::string>>();
    else
      for (const auto& f : found)
        wanted.push_back(nomtag::musicnn::HeadName(f.stem().string()));
    YAML::Node labels = setting("labels");
    for (const auto& name : wanted) {
      auto it =
          std::find_if(found.begin(), found.end(), [&](const fs::path& f) {
            return nomtag::musicnn::HeadName(f.stem().string()) == name;
          });
      if (it == found.end())
        throw Error(NOMTAG_ERR_SETTINGS, "heads: no model file for '" + name +
                                             "' under " +
                                             (root / "heads").string());
      HeadConfig h;
      h.file = ReadModel(*it);
      h.name = name;
      h.model_id = nomtag::musicnn::ModelId(h.file.stem);
      h.labels = labels && labels[name]
                     ? labels[name].as<std::vector<std::string>>()
                     : nomtag::musicnn::DefaultLabels(name, order);
      if (h.labels.size() != 2)
        throw Error(NOMTAG_ERR_SETTINGS, "labels: head '" + name +
                                             "' needs two labels (index 0, 1)");
      c.heads.push_back(std::move(h));
    }
  } catch (const YAML::Exception& e) {
    throw Error(NOMTAG_ERR_SETTINGS, std::string("bad settings: ") + e.what());
  }
  return c;
}

nomtag_inference table();  // below

nomtag_inference kInference;  // filled by Init (min_duration_s is a setting)

nomtag_status Init(const nomtag_host*, const char* settings, size_t len,
                   nomtag_error* err) {
  return guard(err, [&] {
    config = ParseSettings(std::string(settings, len));
    kInference = table();
  });
}

// One session's models: the executor runs one graph on one thread at a
// time, so each session has its own.
struct Session {
  std::unique_ptr<Model> backbone;
  std::vector<std::unique_ptr<Model>> heads;
};

std::unique_ptr<Model> Load(const ModelFile& f) {
  std::string error;
  auto m = Model::LoadFromBytes(f.bytes, f.path, &error);
  if (!m) throw Error(NOMTAG_ERR_SETTINGS, error);
  return m;
}

nomtag_status Open(const char*, size_t, void** out, nomtag_error* err) {
  return guard(err, [&] {
    auto s = std::make_unique<Session>();
    s->backbone = Load(config.backbone);
    for (const auto& h : config.heads) s->heads.push_back(Load(h.file));
    *out = s.release();
  });
}

void Close(void* session) { delete static_cast<Session*>(session); }

Tensor Output(std::map<std::string, Tensor>& out, const std::string& name) {
  auto it = out.find(name);
  if (it == out.end()) throw Error(NOMTAG_ERR_INTERNAL, "no output " + name);
  return it->second;
}

void Run(Model& m, const Tensor& input, std::map<std::string, Tensor>* out) {
  std::string error;
  if (!m.Run({{m.input_names().at(0), input}}, out, &error))
    throw Error(NOMTAG_ERR_INTERNAL, error);
}

void Analyse(Session& s, const nomtag::musicnn::FrontEnd& fe,
             const nomtag_inference_sink* sink) {
  const int64_t n = fe.patches();
  if (n == 0)
    throw Error(NOMTAG_ERR_UNSUPPORTED,
                "too short for one MusiCNN patch (about 3 s)");
  nomtag::onnx::SetThreads(config.threads);
  std::vector<float> embeddings;
  embeddings.reserve(n * kEmbedding);
  std::map<std::string, Tensor> out;
  for (int64_t b = 0; b < n; b += kBatch) {
    const int64_t count = std::min<int64_t>(kBatch, n - b);
    std::vector<float> patches;
    patches.reserve(count * nomtag::musicnn::kPatchFrames *
                    nomtag::musicnn::kBands);
    for (int64_t k = b; k < b + count; ++k) fe.AppendPatch(k, &patches);
    Run(*s.backbone,
        Tensor::Floats(
            {count, nomtag::musicnn::kPatchFrames, nomtag::musicnn::kBands},
            std::move(patches)),
        &out);
    Tensor e = Output(out, "embeddings");
    if (e.size() != count * kEmbedding)
      throw Error(NOMTAG_ERR_INTERNAL, "backbone embeddings are not [n,200]");
    embeddings.insert(embeddings.end(), e.f(), e.f() + e.size());
  }
  Tensor all = Tensor::Floats({n, kEmbedding}, embeddings);
  bool with_spread =
      NOMTAG_HAS_FIELD(sink, nomtag_inference_sink, head_with_spread) &&
      sink->head_with_spread;
  for (size_t h = 0; h < config.heads.size(); ++h) {
    const HeadConfig& head = config.heads[h];
    Run(*s.heads[h], all, &out);
    Tensor p = Output(out, s.heads[h]->output_names().at(0));
    if (p.size() != n * 2)
      throw Error(NOMTAG_ERR_INTERNAL, head.file.path + " does not give [n,2]");
    auto pooled = nomtag::musicnn::TrimmedMean(p.f(), n, 2);
    for (int k = 0; k < 2; ++k) {
      double score = std::clamp(pooled.value[k], 0.0, 1.0);
      const std::string& label = head.labels[k];
      nomtag_status st =
          with_spread
              ? sink->head_with_spread(sink->ctx, head.model_id.data(),
                                       head.model_id.size(), label.data(),
                                       label.size(), score, pooled.spread[k])
              : sink->head(sink->ctx, head.model_id.data(),
                           head.model_id.size(), label.data(), label.size(),
                           score);
      if (st != NOMTAG_OK) throw Error(st, "host sink refused a head output");
    }
  }
  if (NOMTAG_HAS_FIELD(sink, nomtag_inference_sink, embedding) &&
      sink->embedding) {
    auto pooled =
        nomtag::musicnn::TrimmedMean(embeddings.data(), n, kEmbedding);
    std::vector<float> track(pooled.value.begin(), pooled.value.end());
    std::string id = nomtag::musicnn::ModelId(config.backbone.stem);
    nomtag_status st = sink->embedding(sink->ctx, id.data(), id.size(),
                                       track.data(), track.size());
    if (st != NOMTAG_OK) throw Error(st, "host sink refused the embedding");
  }
}

struct RunState {
  Session* session;
  nomtag::musicnn::FrontEnd frontend;
};

nomtag_status AnalyzeFile(void*, const char*, const nomtag_stream*,
                          const nomtag_inference_sink*, nomtag_error* err) {
  nomtag::sdk::set_error(err, "this plugin analyses decoded audio only");
  return NOMTAG_ERR_UNSUPPORTED;
}

nomtag_status AnalyzeAudio(void* session, const nomtag_audio* audio,
                           const nomtag_inference_sink* sink,
                           nomtag_error* err) {
  return guard(err, [&] {
    nomtag::musicnn::FrontEnd fe(audio->sample_rate, audio->channels);
    fe.Feed(audio->samples, audio->frame_count);
    fe.Finish();
    Analyse(*static_cast<Session*>(session), fe, sink);
  });
}

nomtag_status AudioBegin(void* session, const nomtag_audio_format* fmt,
                         void** out, nomtag_error* err) {
  return guard(err, [&] {
    try {
      *out = new RunState{
          static_cast<Session*>(session),
          nomtag::musicnn::FrontEnd(fmt->sample_rate, fmt->channels)};
    } catch (const std::runtime_error& e) {
      throw Error(NOMTAG_ERR_UNSUPPORTED, e.what());
    }
  });
}

nomtag_status AudioBlock(void* run, const float* samples, uint64_t frames,
                         nomtag_error* err) {
  return guard(err, [&] {
    static_cast<RunState*>(run)->frontend.Feed(samples, frames);
  });
}

nomtag_status AudioEnd(void* run_ptr, const nomtag_inference_sink* sink,
                       nomtag_error* err) {
  std::unique_ptr<RunState> run(static_cast<RunState*>(run_ptr));
  return guard(err, [&] {
    run->frontend.Finish();
    Analyse(*run->session, run->frontend, sink);
  });
}

void AudioAbort(void* run) { delete static_cast<RunState*>(run); }

nomtag_inference table() {
  size_t tiers = 0;
  const nomtag_tier_source* sources = nomtag::musicnn::TierSources(&tiers);
  return {
      sizeof(nomtag_inference),
      0,  // concurrent_analyze: a session's models run one at a time
      Open,
      AnalyzeFile,
      AnalyzeAudio,
      Close,
      0,  // audio_sample_rate: native; libsamplerate as the original
      NOMTAG_AUDIO_NATIVE,
      2,  // max_channels: the original refuses more
      config.min_duration_s,
      sources,
      tiers,
      AudioBegin,
      AudioBlock,
      AudioEnd,
      AudioAbort,
  };
}

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_INFERENCE_INTERFACE_ID)
             ? &kInference
             : nullptr;
}

const nomtag_setting kSettings[] = {
    {"models", NOMTAG_SETTING_PATH},
    {"heads", NOMTAG_SETTING_VALUE},
    {"labels", NOMTAG_SETTING_VALUE},
    {"class_order", NOMTAG_SETTING_VALUE},
    {"min_duration_s", NOMTAG_SETTING_VALUE},
    {"threads", NOMTAG_SETTING_VALUE},
};

}  // namespace

NOMTAG_PLUGIN_WITH_SETTINGS(NOMTAG_KIND_INFERENCE, "org.nomtag.inference.onnx",
                            "MusiCNN models of the original system (ONNX, in "
                            "process)",
                            "1.0.0", Init, nullptr, GetInterface, kSettings,
                            sizeof kSettings / sizeof kSettings[0])
