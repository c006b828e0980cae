#include "audio/audio_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "plugins/plugin_registry.h"

namespace nomtag {
namespace {

std::string ModulePath() {
  if (const char* env = std::getenv("NOMTAG_AUDIO_MODULE"); env && *env)
    return env;
  // The plugins live in <prefix>/lib/nomtag/plugins: the module one up.
  return (std::filesystem::path(BundledPluginDir()).parent_path() /
          kAudioModuleFile)
      .string();
}

Result<const AudioModule*> Load() {
  const std::string path = ModulePath();
  // Kept loaded for the process's life: decoders may outlive any caller.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::Unsupported(
        "the audio decoder " + path + " cannot be loaded (" +
        (why ? why : "unknown reason") + "); reinstall nomtag");
  }
  using Entry = const AudioModule* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, kAudioModuleSymbol));
  const AudioModule* module = entry ? entry() : nullptr;
  if (module == nullptr || module->layout != kAudioModuleLayout)
    return Status::Unsupported("the audio decoder " + path +
                               " is from another build of nomtag; "
                               "reinstall nomtag");
  return module;
}

}  // namespace

Result<const AudioModule*> LoadAudioModule() {
  static const Result<const AudioModule*> loaded = Load();
  return loaded;
}

Result<std::unique_ptr<AudioDecoder>> AudioDecoder::Open(
    const std::string& path) {
  auto module = LoadAudioModule();
  if (!module.ok()) return module.status();
  return (*module)->open_decoder(path);
}

Result<std::unique_ptr<AudioConverter>> AudioConverter::Create(
    const AudioSourceInfo& source, uint32_t want_rate, uint32_t want_channels) {
  auto module = LoadAudioModule();
  if (!module.ok()) return module.status();
  return (*module)->create_converter(source, want_rate, want_channels);
}

}  // namespace nomtag
