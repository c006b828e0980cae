#include "plugins/plugin_library.h"

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>

namespace nomtag {

struct PluginLibrary::Rep {
  std::string path;
  boost::dll::shared_library lib;
  const nomtag_plugin_entry* entry = nullptr;
  // What the plugin may call back; lives as long as the plugin is loaded.
  nomtag_host host{};
  std::string log_prefix;
  bool initialised = false;
};

namespace {

std::mutex log_mutex;

void LogFromPlugin(void* host_data, nomtag_log_level level, const char* msg,
                   size_t len) {
  if (level < NOMTAG_LOG_WARNING && std::getenv("NOMTAG_VERBOSE") == nullptr)
    return;
  const auto* prefix = static_cast<const std::string*>(host_data);
  static const char* names[] = {"debug", "info", "warning", "error"};
  const char* name = level <= NOMTAG_LOG_ERROR ? names[level] : "log";
  std::lock_guard<std::mutex> lock(log_mutex);
  std::fprintf(stderr, "nomtag: %s: %s: %.*s\n", prefix->c_str(), name,
               static_cast<int>(len), msg);
}

}  // namespace

const char* KindName(nomtag_plugin_kind kind) {
  switch (kind) {
    case NOMTAG_KIND_FORMAT:
      return "format";
    case NOMTAG_KIND_INFERENCE:
      return "inference";
    case NOMTAG_KIND_STORAGE:
      return "storage";
  }
  return "unknown";
}

Status PluginLibrary::CheckEntry(const nomtag_plugin_entry* e) {
  // The first three fields are fixed for every ABI major; read nothing
  // else until they fit.
  if (e->abi_major != NOMTAG_ABI_MAJOR)
    return Status::Unsupported(
        "built for nomtag ABI " + std::to_string(e->abi_major) + "." +
        std::to_string(e->abi_minor) + ", this host speaks ABI " +
        std::to_string(NOMTAG_ABI_MAJOR) + "." +
        std::to_string(NOMTAG_ABI_MINOR) + " (the major must match)");
  // ABI 1.0's descriptor ends at get_interface; later minors append.
  constexpr size_t kAbi1Size = offsetof(nomtag_plugin_entry, settings);
  if (e->struct_size < kAbi1Size)
    return Status::Unsupported(
        "entry descriptor is " + std::to_string(e->struct_size) +
        " bytes, ABI 1 needs at least " + std::to_string(kAbi1Size));
  if (e->id == nullptr || e->id[0] == '\0')
    return Status::InvalidArgument("entry descriptor has no plugin id");
  if (e->version == nullptr || e->name == nullptr)
    return Status::InvalidArgument("entry descriptor of '" +
                                   std::string(e->id) +
                                   "' lacks a name or a version");
  if (e->get_interface == nullptr)
    return Status::InvalidArgument("plugin '" + std::string(e->id) +
                                   "' has no get_interface function");
  if (std::string(KindName(e->kind)) == "unknown")
    return Status::Unsupported("plugin '" + std::string(e->id) +
                               "' declares unknown kind " +
                               std::to_string(e->kind));
  return Status::OK();
}

Result<std::shared_ptr<PluginLibrary>> PluginLibrary::Load(
    const std::string& path, const std::string& settings_yaml,
    const Precheck& precheck) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Status::NotFound(path + ": no such plugin file");

  auto rep = std::make_unique<Rep>();
  rep->path = path;
  try {
    rep->lib.load(path, boost::dll::load_mode::rtld_now |
                            boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        path + ": cannot load as a shared library: " + e.what());
  }
  // The library stays mapped until the process exits, though deinit runs
  // when the last view goes: unloading it would unload the libraries it
  // brought (FFmpeg under the analysis plugin's libaubio, Kerberos under
  // libpq), whose constructors allocated and may have left threads or
  // exit handlers pointing into their code. RTLD_NOLOAD only marks the
  // loaded library NODELETE; the handle it returns is dropped at once.
  if (void* pin =
          ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
    ::dlclose(pin);
  if (!rep->lib.has(NOMTAG_ENTRY_SYMBOL))
    return Status::InvalidArgument(
        path + ": not a nomtag plugin (no exported '" NOMTAG_ENTRY_SYMBOL
               "' symbol)");
  auto& fn = rep->lib.get<const nomtag_plugin_entry*()>(NOMTAG_ENTRY_SYMBOL);
  rep->entry = fn();
  if (rep->entry == nullptr)
    return Status::InvalidArgument(path + ": entry function returned null");
  if (Status s = CheckEntry(rep->entry); !s.ok()) return s.Prepend(path);
  std::string settings = settings_yaml;
  if (precheck)
    if (Status s = precheck(*rep->entry, &settings); !s.ok())
      return s.Prepend(path);

  rep->log_prefix = rep->entry->id;
  rep->host = {sizeof(nomtag_host), NOMTAG_ABI_MAJOR, NOMTAG_ABI_MINOR,
               &rep->log_prefix, LogFromPlugin};
  if (rep->entry->init != nullptr) {
    char text[1024] = {0};
    nomtag_error err{sizeof err, text, sizeof text};
    nomtag_status st =
        rep->entry->init(&rep->host, settings.data(), settings.size(), &err);
    if (st != NOMTAG_OK)
      return Status::InvalidArgument(
          path + ": plugin '" + rep->entry->id +
          "' failed to initialise: " + (text[0] ? text : "no message") +
          " (status " + std::to_string(st) + ")");
  }
  rep->initialised = true;
  return std::shared_ptr<PluginLibrary>(new PluginLibrary(std::move(rep)));
}

PluginLibrary::PluginLibrary(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

PluginLibrary::~PluginLibrary() {
  if (rep_->initialised && rep_->entry->deinit != nullptr)
    rep_->entry->deinit();
  // rep_->lib unloads when rep_ goes.
}

const std::string& PluginLibrary::path() const { return rep_->path; }
const nomtag_plugin_entry& PluginLibrary::entry() const { return *rep_->entry; }

const void* PluginLibrary::GetInterface(const char* interface_id) const {
  return rep_->entry->get_interface(interface_id);
}

}  // namespace nomtag
