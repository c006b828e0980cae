// Descriptor analysis throughput, in seconds of audio per second of wall
// time, beside FFmpeg decoding the same files alone (the floor), measured
// in the same run: 1 worker and 2 workers (threads taking files in turn).
//
//   analysis_bench DIR [PLUGIN.so...]
//
// Audio files directly in DIR (see README.md). With plugin files (a build
// of the descriptors plugin from before a change, say), each is measured
// in turn in the same run, so figures compare on the same machine load;
// without, the plugin of this build.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "analysis/analyzer.h"
#include "audio/audio_decoder.h"
#include "core/plugin_error.h"
#include "plugins/plugin_registry.h"

namespace {

using Clock = std::chrono::steady_clock;

// Runs fn(file) over files with `workers` threads; returns wall seconds
// and sums the audio seconds fn reports.
double Timed(const std::vector<std::string>& files, int workers,
             const std::function<double(const std::string&)>& fn,
             double* audio_s) {
  std::atomic<size_t> next{0};
  std::vector<double> per(workers, 0);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      for (size_t i; (i = next++) < files.size();) per[w] += fn(files[i]);
    });
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  *audio_s = 0;
  for (double s : per) *audio_s += s;
  return wall;
}

double DecodeOnly(const std::string& path) {
  auto dec = nomtag::AudioDecoder::Open(path);
  if (!dec.ok()) return 0;
  std::vector<float> block;
  for (;;) {
    auto more = (*dec)->Next(&block);
    if (!more.ok() || !*more) break;
  }
  return double((*dec)->frames_out()) / (*dec)->info().sample_rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: analysis_bench DIR [PLUGIN.so...]\n");
    return 2;
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[1]))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> plugin_files(argv + 2, argv + argc);
  if (plugin_files.empty())
    plugin_files.push_back(NOMTAG_BENCH_PLUGIN_DIR
                           "/nomtag-inference-descriptors.so");
  // One registry each: the builds share their plugin id.
  std::vector<std::unique_ptr<nomtag::PluginRegistry>> registries;
  for (const auto& file : plugin_files) {
    registries.push_back(std::make_unique<nomtag::PluginRegistry>());
    nomtag::PluginSpec spec;
    spec.name = "inference-descriptors";
    if (auto s = registries.back()->LoadOne(spec, file); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }

  auto analyse = [&](const nomtag::InferencePluginRef& plugin,
                     const std::string& path) {
    void* session = nullptr;
    nomtag::PluginErrorBuffer eb;
    if (plugin.table->open("", 0, &session, &eb.err) != NOMTAG_OK) return 0.0;
    nomtag::AnalysisOutcome out = nomtag::AnalyzeOneFile(plugin, session, path);
    plugin.table->close(session);
    if (!out.error.empty())
      std::fprintf(stderr, "%s: %s\n", path.c_str(), out.error.c_str());
    return out.audio_seconds;
  };

  std::printf("%zu files in %s\n", files.size(), argv[1]);
  std::printf("%-24s %8s %10s %10s %12s\n", "what", "workers", "audio s",
              "wall s", "× real time");
  for (int workers : {1, 2}) {
    double audio = 0;
    double wall = Timed(files, workers, DecodeOnly, &audio);
    std::printf("%-24s %8d %10.1f %10.2f %12.0f\n", "ffmpeg decode alone",
                workers, audio, wall, audio / wall);
    double decode_wall = wall;
    for (size_t i = 0; i < registries.size(); ++i) {
      const auto& plugin = registries[i]->inferences().front();
      wall = Timed(
          files, workers,
          [&](const std::string& path) { return analyse(plugin, path); },
          &audio);
      std::printf("%-24s %8d %10.1f %10.2f %12.0f   (%.2f× the decode time)\n",
                  "descriptors analysis", workers, audio, wall, audio / wall,
                  wall / decode_wall);
      if (registries.size() > 1)
        std::printf("    by %s\n", plugin_files[i].c_str());
    }
  }
  return 0;
}
