// inference-external: runs a user-configured command as a persistent
// worker and asks it, one JSON line per file, for head outputs,
// descriptors and an embedding (worker_protocol.h; the reference for
// worker authors is docs/external-worker-protocol.md).
//
// One worker per session (the host opens one session per analysis
// thread). A worker that breaks the protocol, answers too late, writes an
// oversized line or dies costs the file it was working on a per-file
// failure with the reason, is killed with its process group, and is
// started again for the next file; after max_restarts restarts in a
// session the remaining files fail at once instead. A worker that cannot
// start at all (no hello line) fails the session's open: the run stops
// with the reason and the worker's last stderr line.
#include <limits.h>
#include <nomtag/inference.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <stdexcept>
#include <string>

#include "external_settings.h"
#include "worker_process.h"
#include "worker_protocol.h"

namespace {

using nomtag::external::Settings;
using nomtag::external::WorkerProcess;
using nomtag::sdk::Error;
using nomtag::sdk::guard;
using Clock = std::chrono::steady_clock;

// Read once in init (with paths resolved by the host); sessions share it.
Settings settings;
std::deque<std::string> tier_strings;  // what tier_table points into
std::vector<nomtag_tier_source> tier_table;
nomtag_inference table;

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::microseconds(int64_t(seconds * 1e6));
}

std::string SecondsText(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

struct Session {
  WorkerProcess worker{settings.argv, settings.max_line_bytes,
                       settings.stderr_bytes};
  uint64_t next_id = 1;
  int restarts = 0;

  std::string WithStderr(std::string why) const {
    std::string line = worker.last_stderr_line();
    return line.empty() ? why : why + "; its stderr ends: " + line;
  }

  // Starts the worker and waits for its hello. Empty on success.
  std::string Start() {
    if (std::string why = worker.Start(); !why.empty()) return why;
    std::string line;
    switch (worker.ReadLine(&line, After(settings.start_timeout_s))) {
      case WorkerProcess::Read::kLine:
        if (std::string why = nomtag::external::CheckHello(line);
            !why.empty()) {
          worker.Stop(std::chrono::milliseconds(0));
          return "the worker broke the protocol at start: " + why;
        }
        return "";
      case WorkerProcess::Read::kTimeout:
        worker.Stop(std::chrono::milliseconds(0));
        return WithStderr("the worker said no hello line within " +
                          SecondsText(settings.start_timeout_s));
      case WorkerProcess::Read::kTooLong:
        worker.Stop(std::chrono::milliseconds(0));
        return "the worker broke the protocol at start: its first line is "
               "longer than " +
               std::to_string(settings.max_line_bytes) + " bytes";
      case WorkerProcess::Read::kEnd:
        break;
    }
    std::string how = worker.Stop(std::chrono::milliseconds(1000));
    return WithStderr("the worker " + how + " before its hello line");
  }

  // Ends the worker after it failed a file; the reason for that file.
  [[noreturn]] void Fail(std::string why) {
    std::string how = worker.Stop(std::chrono::milliseconds(0));
    (void)how;
    nomtag::sdk::log(NOMTAG_LOG_WARNING, "inference-external: " + why +
                                             "; the worker's stderr:\n" +
                                             worker.stderr_tail());
    throw Error(NOMTAG_ERR_IO, WithStderr(why) + " (worker restarted)");
  }
};

nomtag_status Init(const nomtag_host*, const char* yaml, size_t len,
                   nomtag_error* err) {
  return guard(err, [&] {
    try {
      settings = nomtag::external::ParseSettings(std::string(yaml, len));
    } catch (const std::invalid_argument& e) {
      throw Error(NOMTAG_ERR_SETTINGS, e.what());
    }
    // A tier source and its opposite go together: declare both ways.
    auto declared = [](const std::string& m, const std::string& l) {
      for (const auto& t : settings.tier_sources)
        if (t.model_id == m && t.label == l) return true;
      return false;
    };
    for (size_t i = 0, n = settings.tier_sources.size(); i < n; ++i) {
      auto t = settings.tier_sources[i];
      if (!t.opposite.empty() && !declared(t.model_id, t.opposite))
        settings.tier_sources.push_back({t.model_id, t.opposite, t.label});
    }
    tier_strings.clear();
    tier_table.clear();
    for (const auto& t : settings.tier_sources) {
      auto keep = [](const std::string& s) {
        return tier_strings.emplace_back(s).c_str();
      };
      tier_table.push_back({sizeof(nomtag_tier_source), keep(t.model_id),
                            keep(t.label),
                            t.opposite.empty() ? nullptr : keep(t.opposite)});
    }
    table.min_duration_s = settings.min_duration_s;
    table.max_channels = settings.max_channels;
    table.tier_sources = tier_table.data();
    table.tier_source_count = tier_table.size();
  });
}

// The session's settings are the plugin's (read in init, where relative
// paths are already resolved); the text given here is the same block.
nomtag_status Open(const char*, size_t, void** out, nomtag_error* err) {
  return guard(err, [&] {
    auto session = std::make_unique<Session>();
    if (std::string why = session->Start(); !why.empty())
      throw Error(NOMTAG_ERR_IO,
                  "cannot start the worker " + settings.argv[0] + ": " + why);
    *out = session.release();
  });
}

void Close(void* session) {
  std::unique_ptr<Session> s(static_cast<Session*>(session));
  s->worker.Stop(std::chrono::milliseconds(2000));
}

void Report(const nomtag::external::Answer& a,
            const nomtag_inference_sink* sink) {
  auto check = [](nomtag_status st) {
    if (st != NOMTAG_OK) throw Error(st, "host sink refused");
  };
  for (const auto& [name, value] : a.descriptors)
    check(sink->descriptor(sink->ctx, name.data(), name.size(), value));
  bool spread =
      NOMTAG_HAS_FIELD(sink, nomtag_inference_sink, head_with_spread) &&
      sink->head_with_spread;
  for (const auto& h : a.heads)
    check(spread ? sink->head_with_spread(sink->ctx, h.model_id.data(),
                                          h.model_id.size(), h.label.data(),
                                          h.label.size(), h.value, h.spread)
                 : sink->head(sink->ctx, h.model_id.data(), h.model_id.size(),
                              h.label.data(), h.label.size(), h.value));
  if (!a.embedding_model.empty() &&
      NOMTAG_HAS_FIELD(sink, nomtag_inference_sink, embedding) &&
      sink->embedding)
    check(sink->embedding(sink->ctx, a.embedding_model.data(),
                          a.embedding_model.size(), a.embedding.data(),
                          a.embedding.size()));
}

std::string Absolute(const char* path) {
  if (path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr)
    throw Error(NOMTAG_ERR_IO, "cannot make the path absolute");
  return std::string(cwd) + "/" + path;
}

nomtag_status AnalyzeFile(void* session_ptr, const char* path,
                          const nomtag_stream*,
                          const nomtag_inference_sink* sink,
                          nomtag_error* err) {
  return guard(err, [&] {
    Session& s = *static_cast<Session*>(session_ptr);
    if (!s.worker.running()) {
      if (s.restarts >= settings.max_restarts)
        throw Error(NOMTAG_ERR_IO, "worker gave up: it was restarted " +
                                       std::to_string(s.restarts) +
                                       " times in this run (max_restarts)");
      ++s.restarts;
      if (std::string why = s.Start(); !why.empty())
        throw Error(NOMTAG_ERR_IO, "worker cannot be restarted: " + why);
    }
    uint64_t id = s.next_id++;
    auto deadline = After(settings.timeout_s);
    std::string line = nomtag::external::RequestLine(id, Absolute(path));
    if (std::string why = s.worker.Send(line, deadline); !why.empty())
      s.Fail("worker crashed: " + why);
    switch (s.worker.ReadLine(&line, deadline)) {
      case WorkerProcess::Read::kLine:
        break;
      case WorkerProcess::Read::kTimeout:
        s.Fail("worker timeout: no answer within " +
               SecondsText(settings.timeout_s) + ", killed");
      case WorkerProcess::Read::kTooLong:
        s.Fail("worker protocol error: an answer line longer than " +
               std::to_string(settings.max_line_bytes) +
               " bytes (max_line_bytes)");
      case WorkerProcess::Read::kEnd: {
        std::string how = s.worker.Stop(std::chrono::milliseconds(1000));
        s.Fail("worker crashed: it " + how + " while analysing this file");
      }
    }
    auto parsed = nomtag::external::ParseAnswer(line, id);
    if (!parsed.ok) s.Fail("worker protocol error: " + parsed.error);
    if (!parsed.answer.refusal.empty())
      throw Error(NOMTAG_ERR_REFUSED,
                  "worker refused the file: " + parsed.answer.refusal);
    Report(parsed.answer, sink);
  });
}

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_INFERENCE_INTERFACE_ID) ? &table
                                                                      : nullptr;
}

// What the worker gets is the file's path, never decoded audio: the
// table has no analyze_audio and no streaming functions, so the host
// probes the file (refusing what is not audio, too short, or has too many
// channels) and calls analyze_file.
struct TableSetup {
  TableSetup() {
    table.struct_size = sizeof(nomtag_inference);
    table.concurrent_analyze = 0;  // one worker per session
    table.open = Open;
    table.analyze_file = AnalyzeFile;
    table.close = Close;
  }
} table_setup;

const nomtag_setting kSettings[] = {
    {"command", NOMTAG_SETTING_PATH},
    {"args", NOMTAG_SETTING_VALUE},
    {"timeout_s", NOMTAG_SETTING_VALUE},
    {"start_timeout_s", NOMTAG_SETTING_VALUE},
    {"max_line_bytes", NOMTAG_SETTING_VALUE},
    {"max_restarts", NOMTAG_SETTING_VALUE},
    {"stderr_bytes", NOMTAG_SETTING_VALUE},
    {"min_duration_s", NOMTAG_SETTING_VALUE},
    {"max_channels", NOMTAG_SETTING_VALUE},
    {"tier_sources", NOMTAG_SETTING_VALUE},
};

}  // namespace

NOMTAG_PLUGIN_WITH_SETTINGS(NOMTAG_KIND_INFERENCE,
                            "org.nomtag.inference.external",
                            "External analyzer (a worker command, JSON lines)",
                            "1.0.0", Init, nullptr, GetInterface, kSettings,
                            sizeof kSettings / sizeof kSettings[0])
