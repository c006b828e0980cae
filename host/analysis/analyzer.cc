#include "analysis/analyzer.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "audio/audio_decoder.h"
#include "audio/audio_module.h"
#include "core/plugin_error.h"
#include "io/file_source.h"
#include "io/overlay_stream.h"

namespace nomtag {
namespace {

std::string Join(const std::string& root, const std::string& rel) {
  if (root.empty() || root.back() == '/') return root + rel;
  return root + "/" + rel;
}

// A path from the database must stay inside the library's root.
bool StaysInsideRoot(const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    if (rel.compare(start, slash - start, "..") == 0 &&
        (slash == std::string::npos ? rel.size() - start : slash - start) == 2)
      return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// What identifies the bytes at a path: a file replaced or rewritten during
// the analysis differs in one of these.
struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const Identity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size &&
           mtime_ns == o.mtime_ns;
  }
};

bool IdentityOf(const std::string& path, Identity* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  *out = {st.st_dev, st.st_ino, st.st_size,
          int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  return true;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// The plugin's declared tier sources, by (model, label).
std::map<std::pair<std::string, std::string>, std::string> TierSources(
    const nomtag_inference* t) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  if (!NOMTAG_HAS_FIELD(t, nomtag_inference, tier_source_count)) return out;
  for (size_t i = 0; i < t->tier_source_count; ++i) {
    const nomtag_tier_source& s = t->tier_sources[i];
    if (s.model_id && s.label)
      out[{s.model_id, s.label}] = s.opposite ? s.opposite : "";
  }
  return out;
}

// Collects what the plugin reports through the sink.
struct Collector {
  AnalysisOutcome* out;
  const std::map<std::pair<std::string, std::string>, std::string>* tiers;

  void Head(std::string model, std::string label, double score, double spread) {
    HeadScore h;
    h.model_id = std::move(model);
    h.label = std::move(label);
    h.score = score;
    h.spread = spread;
    auto it = tiers->find({h.model_id, h.label});
    if (it != tiers->end()) {
      h.tier_source = true;
      h.opposite = it->second;
    }
    out->heads.push_back(std::move(h));
  }
};

nomtag_inference_sink MakeSink(Collector* c) {
  nomtag_inference_sink sink{};
  sink.struct_size = sizeof sink;
  sink.ctx = c;
  sink.head = [](void* ctx, const char* m, size_t ml, const char* l, size_t ll,
                 double score) -> nomtag_status {
    static_cast<Collector*>(ctx)->Head({m, ml}, {l, ll}, score, -1);
    return NOMTAG_OK;
  };
  sink.descriptor = [](void* ctx, const char* n, size_t nl,
                       double v) -> nomtag_status {
    static_cast<Collector*>(ctx)->out->descriptors.push_back({"", {n, nl}, v});
    return NOMTAG_OK;
  };
  sink.head_with_spread = [](void* ctx, const char* m, size_t ml, const char* l,
                             size_t ll, double score,
                             double spread) -> nomtag_status {
    static_cast<Collector*>(ctx)->Head({m, ml}, {l, ll}, score, spread);
    return NOMTAG_OK;
  };
  sink.embedding = [](void* ctx, const char* m, size_t ml, const float* v,
                      size_t n) -> nomtag_status {
    AnalysisOutcome* o = static_cast<Collector*>(ctx)->out;
    o->embedding_model.assign(m, ml);
    o->embedding.assign(v, v + n);
    return NOMTAG_OK;
  };
  return sink;
}

bool Streams(const nomtag_inference* t) {
  return NOMTAG_HAS_FIELD(t, nomtag_inference, audio_abort) && t->audio_begin &&
         t->audio_block && t->audio_end && t->audio_abort;
}

// The kind of a failure, for the summary: the reason up to its first ':'.
std::string ReasonKind(const std::string& reason) {
  // A plugin's refusal is grouped by the plugin's own first words
  // ("refused by the plugin: worker timeout"), or every worker failure
  // would land under one heading.
  static const std::string kByPlugin = "refused by the plugin: ";
  if (reason.rfind(kByPlugin, 0) == 0) {
    const size_t end = reason.find(':', kByPlugin.size());
    return reason.substr(0, end);
  }
  return reason.substr(0, reason.find(':'));
}

// A plugin that takes no decoded audio reads the file itself (through a
// read-only stream, or by its path, as inference-external's worker does).
// The file was probed already: what is not audio, too short or has too
// many channels never reaches it.
AnalysisOutcome AnalyzePath(const nomtag_inference* t, void* session,
                            const std::string& path, double duration_s) {
  AnalysisOutcome out;
  if (t->analyze_file == nullptr) {
    out.error = "unsupported plugin: it takes neither decoded audio nor files";
    return out;
  }
  auto source = FileSource::Open(path);
  if (!source.ok()) {
    out.error = "unreadable audio: " + source.status().message();
    return out;
  }
  OverlayStream stream(source->get(), /*read_only=*/true);
  auto tiers = TierSources(t);
  Collector collector{&out, &tiers};
  nomtag_inference_sink sink = MakeSink(&collector);
  PluginErrorBuffer eb;
  if (t->analyze_file(session, path.c_str(), stream.stream(), &sink, &eb.err) !=
      NOMTAG_OK) {
    out = AnalysisOutcome();
    out.error = std::string("refused by the plugin: ") + eb.text;
    return out;
  }
  out.audio_seconds = duration_s > 0 ? duration_s : 0;
  return out;
}

}  // namespace

AnalysisKey KeyOf(const InferencePluginRef& plugin) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(plugin.settings_yaml.data()),
         plugin.settings_yaml.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string digest;
  for (int i = 0; i < 8; ++i) {
    digest += hex[md[i] >> 4];
    digest += hex[md[i] & 15];
  }
  return {plugin.id, plugin.version, digest};
}

AnalysisOutcome AnalyzeOneFile(const InferencePluginRef& plugin, void* session,
                               const std::string& path) {
  const nomtag_inference* t = plugin.table;
  AnalysisOutcome out;
  bool v12 = NOMTAG_HAS_FIELD(t, nomtag_inference, min_duration_s);
  uint32_t want_rate = v12 ? t->audio_sample_rate : 0;
  uint32_t want_channels = v12 ? t->audio_channels : 0;
  uint32_t max_channels = v12 ? t->max_channels : 2;
  double min_duration = v12 ? t->min_duration_s : 0;

  auto decoder = AudioDecoder::Open(path);
  if (!decoder.ok()) {
    out.error = "unreadable audio: " + decoder.status().message();
    return out;
  }
  AudioDecoder& dec = **decoder;
  const AudioSourceInfo& src = dec.info();
  if (max_channels != 0 && src.channels > max_channels) {
    out.error = "too many channels: " + std::to_string(src.channels) +
                " (the plugin takes at most " + std::to_string(max_channels) +
                ")";
    return out;
  }
  if (src.duration_s > 0 && src.duration_s < min_duration) {
    out.error = "too short: " + Seconds(src.duration_s) +
                " (the plugin needs at least " + Seconds(min_duration) + ")";
    return out;
  }
  if (!Streams(t) && t->analyze_audio == nullptr)
    return AnalyzePath(t, session, path, src.duration_s);
  auto conv = AudioConverter::Create(src, want_rate, want_channels);
  if (!conv.ok()) {
    out.error = "unsupported audio: " + conv.status().message();
    return out;
  }
  AudioConverter& cv = **conv;

  auto tiers = TierSources(t);
  Collector collector{&out, &tiers};
  nomtag_inference_sink sink = MakeSink(&collector);
  PluginErrorBuffer eb;
  std::vector<float> block, converted;

  if (Streams(t)) {
    nomtag_audio_format fmt{sizeof fmt,     cv.rate(),    cv.channels(),
                            src.duration_s, src.channels, src.sample_rate};
    void* run = nullptr;
    if (t->audio_begin(session, &fmt, &run, &eb.err) != NOMTAG_OK) {
      out.error = std::string("refused by the plugin: ") + eb.text;
      return out;
    }
    auto abort = [&](std::string why) {
      t->audio_abort(run);
      out = AnalysisOutcome();
      out.error = std::move(why);
      return out;
    };
    for (bool flush = false;;) {
      if (!flush) {
        auto more = dec.Next(&block);
        if (!more.ok()) return abort(more.status().message());
        if (!*more) {
          flush = true;
          block.clear();
        }
      }
      if (Status s = cv.Convert(block, flush, &converted); !s.ok())
        return abort("unsupported audio: " + s.message());
      if (!converted.empty() && t->audio_block(run, converted.data(),
                                               converted.size() / cv.channels(),
                                               &eb.err) != NOMTAG_OK)
        return abort(std::string("refused by the plugin: ") + eb.text);
      if (flush) break;
    }
    double seconds = double(dec.frames_out()) / src.sample_rate;
    if (seconds < min_duration)
      return abort("too short: " + Seconds(seconds) +
                   " (the plugin needs at least " + Seconds(min_duration) +
                   ")");
    if (t->audio_end(run, &sink, &eb.err) != NOMTAG_OK) {
      out = AnalysisOutcome();
      out.error = std::string("refused by the plugin: ") + eb.text;
      return out;
    }
    out.audio_seconds = seconds;
    return out;
  }

  // A plugin without streaming takes the whole track at once: memory grows
  // with the file's length here.
  std::vector<float> all;
  for (bool flush = false;;) {
    if (!flush) {
      auto more = dec.Next(&block);
      if (!more.ok()) {
        out.error = more.status().message();
        return out;
      }
      if (!*more) {
        flush = true;
        block.clear();
      }
    }
    if (Status s = cv.Convert(block, flush, &converted); !s.ok()) {
      out.error = "unsupported audio: " + s.message();
      return out;
    }
    all.insert(all.end(), converted.begin(), converted.end());
    if (flush) break;
  }
  double seconds = double(dec.frames_out()) / src.sample_rate;
  if (seconds < min_duration) {
    out.error = "too short: " + Seconds(seconds) +
                " (the plugin needs at least " + Seconds(min_duration) + ")";
    return out;
  }
  nomtag_audio audio{sizeof audio, all.data(), all.size() / cv.channels(),
                     cv.channels(), cv.rate()};
  if (t->analyze_audio(session, &audio, &sink, &eb.err) != NOMTAG_OK) {
    out = AnalysisOutcome();
    out.error = std::string("refused by the plugin: ") + eb.text;
    return out;
  }
  out.audio_seconds = seconds;
  return out;
}

namespace {

struct RunState {
  std::mutex mu;
  AnalyzeReport report;
  int64_t done = 0;
  Status fatal;
  // Claims of files that changed while analysed: held until the run ends,
  // so that the run does not take them again before a scan has seen the
  // new bytes.
  std::vector<ClaimedFile> changed;
};

void Work(StorageDatabase& db, const InferencePluginRef& plugin,
          const AnalysisKey& key, const Library& library,
          const AnalyzeOptions& options, int64_t force_since,
          const std::string& worker, RunState* state) {
  const nomtag_inference* t = plugin.table;
  PluginErrorBuffer eb;
  void* session = nullptr;
  if (t->open(plugin.settings_yaml.data(), plugin.settings_yaml.size(),
              &session, &eb.err) != NOMTAG_OK) {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->fatal.ok())
      state->fatal = Status::Refused("plugin " + plugin.id +
                                     " refused to open a session: " + eb.text);
    return;
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->fatal.ok()) break;
    }
    auto batch = db.ClaimAnalysis(library.id, key, force_since, worker,
                                  options.batch, options.lease_ms);
    if (!batch.ok()) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->fatal.ok()) state->fatal = batch.status();
      break;
    }
    if (batch->empty()) break;
    bool stopped = false;
    for (size_t i = 0; i < batch->size(); ++i) {
      const ClaimedFile& file = (*batch)[i];
      if (options.should_stop && options.should_stop()) {
        stopped = true;
        for (size_t j = i; j < batch->size(); ++j) {
          Status s = db.ReleaseAnalysis((*batch)[j], key);
          std::lock_guard<std::mutex> lock(state->mu);
          if (!s.ok() && state->fatal.ok()) state->fatal = s;
        }
        break;
      }
      AnalysisOutcome outcome;
      bool changed = false;
      if (!StaysInsideRoot(file.path)) {
        outcome.error = "corrupt row: the path leaves the library root";
      } else {
        std::string path = Join(library.root, file.path);
        Identity before, after;
        if (!IdentityOf(path, &before)) {
          outcome.error = "unreadable audio: cannot stat the file";
        } else {
          outcome = AnalyzeOneFile(plugin, session, path);
          changed = !IdentityOf(path, &after) || !(after == before);
        }
      }
      Status stored;
      bool recorded = false;
      if (!changed) {
        auto r = db.RecordAnalysis(file, key, outcome);
        stored = r.status();
        recorded = r.ok() && *r;
      }
      std::lock_guard<std::mutex> lock(state->mu);
      if (!stored.ok()) {
        if (state->fatal.ok()) state->fatal = stored;
        break;
      }
      AnalyzeReport& rep = state->report;
      if (changed) state->changed.push_back(file);
      if (changed || !recorded) {
        ++rep.left_due;
        if (changed)
          rep.failures.emplace_back(file.path,
                                    "changed while being analysed; left due");
      } else if (!outcome.error.empty()) {
        ++rep.failed;
        ++rep.failures_by_reason[ReasonKind(outcome.error)];
        rep.failures.emplace_back(file.path, outcome.error);
      } else {
        ++rep.analysed;
        rep.audio_seconds += outcome.audio_seconds;
      }
      ++state->done;
      if (options.on_progress) options.on_progress(state->done, rep.due);
    }
    if (stopped) break;
  }
  t->close(session);
}

}  // namespace

Result<AnalyzeReport> Analyze(StorageDatabase& db,
                              const InferencePluginRef& plugin,
                              const Library& library,
                              const AnalyzeOptions& options) {
  if (options.workers < 1 || options.workers > 256)
    return Status::InvalidArgument("workers must be between 1 and 256");
  if (options.batch < 1 || options.batch > 10000)
    return Status::InvalidArgument("batch size must be between 1 and 10000");
  auto started = std::chrono::steady_clock::now();
  AnalysisKey key = KeyOf(plugin);
  // --force: every file analysed before this moment is due again; a crash
  // and rerun with --force starts over, a second process joining the run
  // shares the same cut-off closely enough.
  int64_t force_since = options.force ? NowMs() : 0;
  auto due = db.AnalysisDue(library.id, key, force_since);
  if (!due.ok()) return due.status();

  RunState state;
  state.report.due = static_cast<int64_t>(due->size());
  if (options.dry_run) {
    for (const auto& f : *due) state.report.due_paths.push_back(f.path);
    return state.report;
  }
  // Without the audio module no file can be decoded: say so once, before
  // any file is claimed, rather than once per file.
  if (auto audio = LoadAudioModule(); !audio.ok()) return audio.status();
  // One worker for the whole run, proved alive by the store's lock: a
  // killed run's claims are taken over at once by the next.
  auto worker = db.StartWorker();
  if (!worker.ok()) return worker.status();
  int workers = options.workers;
  // A plugin whose sessions may not run in parallel gets one worker per
  // session anyway (sessions are independent by contract).
  std::vector<std::thread> threads;
  for (int i = 1; i < workers; ++i)
    threads.emplace_back(Work, std::ref(db), std::cref(plugin), std::cref(key),
                         std::cref(library), std::cref(options), force_since,
                         *worker, &state);
  Work(db, plugin, key, library, options, force_since, *worker, &state);
  for (auto& th : threads) th.join();
  // Results of bytes that are no longer there were not stored: give the
  // files back; they stay due.
  for (const ClaimedFile& file : state.changed) {
    Status s = db.ReleaseAnalysis(file, key);
    if (state.fatal.ok() && !s.ok()) state.fatal = s;
  }
  if (!state.fatal.ok()) return state.fatal;
  state.report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  return state.report;
}

}  // namespace nomtag
