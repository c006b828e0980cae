// nomtag SDK C++ helpers — declaring a plugin.
//
// In one .cc file of the plugin:
//
//   static nomtag_status my_init(const nomtag_host*, const char* settings,
//                                size_t len, nomtag_error* err);
//   static const void* my_interface(const char* id);
//   NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.example.format.xyz", "XYZ tags",
//                 "1.0.0", my_init, nullptr, my_interface)
//
// init and deinit may be nullptr. Build the plugin with
// -fvisibility=hidden: the macro exports the entry symbol and nothing else.
// nomtag::sdk::host() gives the host table after init (for logging).
#ifndef NOMTAG_CPP_PLUGIN_HPP
#define NOMTAG_CPP_PLUGIN_HPP

#include <cstring>
#include <string_view>

#include "../plugin.h"
#include "error.hpp"

namespace nomtag::sdk {

// The host table handed to init; nullptr before init and after deinit.
inline const nomtag_host*& host_slot() {
  static const nomtag_host* h = nullptr;
  return h;
}
inline const nomtag_host* host() { return host_slot(); }

// Logs through the host when there is one. [thread-safe]
inline void log(nomtag_log_level level, std::string_view msg) {
  const nomtag_host* h = host();
  if (h != nullptr && h->log != nullptr)
    h->log(h->host_data, level, msg.data(), msg.size());
}

// True when the id equals want (both NUL-terminated; id may be null).
inline bool interface_is(const char* id, const char* want) {
  return id != nullptr && std::strcmp(id, want) == 0;
}

}  // namespace nomtag::sdk

// A plugin that declares no settings (any are passed through unchecked).
#define NOMTAG_PLUGIN(KIND, ID, NAME, VERSION, INIT, DEINIT, GET_INTERFACE) \
  NOMTAG_PLUGIN_WITH_SETTINGS(KIND, ID, NAME, VERSION, INIT, DEINIT,        \
                              GET_INTERFACE, nullptr, 0)

// SETTINGS: a static array of nomtag_setting (or nullptr), COUNT its
// length; the host refuses any other key in plugins.yaml.
#define NOMTAG_PLUGIN_WITH_SETTINGS(KIND, ID, NAME, VERSION, INIT, DEINIT, \
                                    GET_INTERFACE, SETTINGS, COUNT)        \
  namespace {                                                              \
  nomtag_status nomtag_entry_init_(const nomtag_host* h, const char* s,    \
                                   size_t n, nomtag_error* e) {            \
    ::nomtag::sdk::host_slot() = h;                                        \
    nomtag_status (*fn)(const nomtag_host*, const char*, size_t,           \
                        nomtag_error*) = INIT;                             \
    nomtag_status st = fn ? fn(h, s, n, e) : NOMTAG_OK;                    \
    if (st != NOMTAG_OK) ::nomtag::sdk::host_slot() = nullptr;             \
    return st;                                                             \
  }                                                                        \
  void nomtag_entry_deinit_() {                                            \
    void (*fn)() = DEINIT;                                                 \
    if (fn) fn();                                                          \
    ::nomtag::sdk::host_slot() = nullptr;                                  \
  }                                                                        \
  const nomtag_plugin_entry nomtag_entry_ = {sizeof(nomtag_plugin_entry),  \
                                             NOMTAG_ABI_MAJOR,             \
                                             NOMTAG_ABI_MINOR,             \
                                             KIND,                         \
                                             ID,                           \
                                             NAME,                         \
                                             VERSION,                      \
                                             nomtag_entry_init_,           \
                                             nomtag_entry_deinit_,         \
                                             GET_INTERFACE,                \
                                             SETTINGS,                     \
                                             COUNT};                       \
  }                                                                        \
  extern "C" NOMTAG_EXPORT const nomtag_plugin_entry* nomtag_entry(void) { \
    return &nomtag_entry_;                                                 \
  }

#endif
