// Write benchmark (issues 3 and 10): nomtag's safe write beside the
// baselines, all measured in the same run on the same files.
//
//   write_bench CORPUS [PLUGIN_DIR]
//
// CORPUS is made by make_corpus.sh (CORPUS/<ext>/*.<ext> and
// CORPUS/seed/seed.<ext>). For each format, every method starts from
// fresh copies of the seed, and reports wall time, files/s and the bytes
// it made the kernel write (/proc/self/io write_bytes, journal and copies
// included) per file:
//   copy      copy + fsync + rename + fsync dir: the floor of any
//             copy-based safe write
//   taglib    TagLib writing in place, no safety at all
//   mutagen   the original system: copy to a temp folder, mutagen writes,
//             move back (bench/mutagen_write.py)
//   nomtag-1  nomtag's first write (the file usually has to move)
//   nomtag-2  nomtag changing a value afterwards (patched in place)
//   copy-2    the same change with write_strategy copy
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "plugins/plugin_registry.h"
#include "write/safe_write.h"
#include "write_bench_baselines.h"

namespace fs = std::filesystem;
using nomtag::TagSet;

namespace {

uint64_t WriteBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == "write_bytes:") return value;
  return 0;
}

struct Figure {
  std::string method;
  double seconds = 0;
  double bytes_per_file = 0;
  size_t files = 0;
};

void Reset(const std::vector<std::string>& files, const std::string& seed) {
  for (const auto& f : files)
    fs::copy_file(seed, f, fs::copy_options::overwrite_existing);
  ::sync();
}

Figure Time(const std::string& method, const std::vector<std::string>& files,
            const std::function<void(const std::string&)>& each) {
  uint64_t before = WriteBytes();
  auto start = std::chrono::steady_clock::now();
  for (const auto& f : files) each(f);
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return {method, s, double(WriteBytes() - before) / files.size(),
          files.size()};
}

Figure Mutagen(const std::vector<std::string>& files, const std::string& kv) {
  std::string cmd =
      "/usr/bin/python3 " +
      (fs::path(__FILE__).parent_path() / "mutagen_write.py").string() + " " +
      kv;
  for (const auto& f : files) cmd += " '" + f + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  size_t n = 0;
  double s = 0;
  unsigned long long bytes = 0;
  if (p == nullptr || std::fscanf(p, "%zu %lf %llu", &n, &s, &bytes) != 3) {
    std::fprintf(stderr, "mutagen baseline failed\n");
    std::exit(1);
  }
  ::pclose(p);
  return {"mutagen", s, double(bytes) / files.size(), files.size()};
}

std::string KeyValues(const TagSet& tags) {
  std::string out;
  for (const auto& [k, v] : tags)
    out += (out.empty() ? "" : ",") + k + "=" + v[0];
  return out;
}

void Check(const nomtag::Result<nomtag::WriteResult>& r, const std::string& f) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", f.c_str(), r.status().ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: write_bench CORPUS [PLUGIN_DIR]\n");
    return 2;
  }
  const std::string corpus = argv[1];
  const std::string plugin_dir = argc > 2 ? argv[2] : NOMTAG_BENCH_PLUGIN_DIR;
  nomtag::PluginRegistry reg;
  nomtag::PluginConfig config;
  for (const char* name : {"format-mp3", "format-flac", "format-ogg-vorbis",
                           "format-opus", "format-mp4"})
    config.plugins.push_back({name, "", "", 0, {}, "", ""});
  reg.LoadAll(config, {plugin_dir});

  const TagSet first = {{"mood-strict", {"happy"}},
                        {"mood-regular", {"happy"}},
                        {"bpm", {"120"}},
                        {"danceability", {"0.8125"}}};
  TagSet second = first;
  second["bpm"] = {"121"};

  std::printf("%-6s %-9s %6s %10s %9s %12s %9s %9s\n", "format", "method",
              "files", "seconds", "files/s", "bytes/file", "vs copy",
              "vs mutagen");
  for (const char* ext : {"mp3", "m4a", "flac", "ogg", "opus"}) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(corpus) / ext))
      files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    const std::string seed =
        (fs::path(corpus) / "seed" / "seed.").string() + ext;
    const nomtag::FormatPlugin* format = reg.FormatForExtension(ext);
    if (files.empty() || format == nullptr) continue;

    std::vector<Figure> figures;
    Reset(files, seed);
    figures.push_back(Time("copy", files, nomtag::bench::CopyAndRename));
    Reset(files, seed);
    figures.push_back(Time("taglib", files, [&](const std::string& f) {
      nomtag::bench::TagLibInPlace(f, first);
    }));
    Reset(files, seed);
    figures.push_back(Mutagen(files, KeyValues(first)));
    Reset(files, seed);
    figures.push_back(Time("nomtag-1", files, [&](const std::string& f) {
      Check(nomtag::SafeWriteNamespace(*format, f, first, {}), f);
    }));
    figures.push_back(Time("nomtag-2", files, [&](const std::string& f) {
      Check(nomtag::SafeWriteNamespace(*format, f, second, {}), f);
    }));
    Reset(files, seed);
    for (const auto& f : files)
      Check(nomtag::SafeWriteNamespace(*format, f, first, {}), f);
    ::sync();
    nomtag::WriteOptions copy;
    copy.copy_only = true;
    figures.push_back(Time("copy-2", files, [&](const std::string& f) {
      Check(nomtag::SafeWriteNamespace(*format, f, second, copy), f);
    }));

    const Figure& base_copy = figures[0];
    const Figure& base_mutagen = figures[2];
    for (const Figure& fig : figures)
      std::printf("%-6s %-9s %6zu %10.3f %9.1f %12.0f %8.2fx %8.2fx\n", ext,
                  fig.method.c_str(), fig.files, fig.seconds,
                  fig.files / fig.seconds, fig.bytes_per_file,
                  base_copy.seconds / fig.seconds,
                  base_mutagen.seconds / fig.seconds);
  }
  std::printf(
      "vs copy / vs mutagen: how many times faster than that baseline "
      "(above 1 is faster)\n");
  return 0;
}
