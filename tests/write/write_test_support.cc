#include "write/write_test_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "write/safe_write.h"

namespace nomtag::testing {

const PluginRegistry& Registry() {
  static PluginRegistry* reg = [] {
    auto* r = new PluginRegistry;
    PluginConfig config;
    for (const char* name : {"format-mp3", "format-flac", "format-ogg-vorbis",
                             "format-opus", "format-mp4"})
      config.plugins.push_back({name, "", "", 0, {}, "", ""});
    r->LoadAll(config, {NOMTAG_TEST_PLUGIN_DIR});
    return r;
  }();
  return *reg;
}

const FormatPlugin& Format(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  const FormatPlugin* f = Registry().FormatForExtension(ext);
  if (f == nullptr) throw std::runtime_error("no plugin for " + ext);
  return *f;
}

TagSet Tags(std::initializer_list<std::pair<std::string, TagValues>> kv) {
  return TagSet(kv.begin(), kv.end());
}

int WriteDyingAt(const char* point, const std::string& path,
                 const TagSet& tags) {
  pid_t child = ::fork();
  if (child == 0) {
    ::setenv("NOMTAG_TEST_CRASH_AT", point, 1);
    auto r = SafeWriteNamespace(Format(path), path, tags, {});
    ::_exit(r.ok() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> Sidecars(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".nomtag-") != std::string::npos)
      out.push_back(e.path().filename().string());
  return out;
}

std::string EncodedNoise(const std::string& dir, const std::string& name,
                         const std::string& encode, int seconds) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  const std::string cmd =
      "ffmpeg -loglevel error -y -f lavfi -i anoisesrc=duration=" +
      std::to_string(seconds) + ":color=pink:amplitude=0.3 " + encode +
      " -metadata title=Theirs " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

}  // namespace nomtag::testing
