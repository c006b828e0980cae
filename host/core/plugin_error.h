// Errors coming back across the plugin ABI: the caller-owned message
// buffer a call fills, and its translation into a Status.
#ifndef NOMTAG_CORE_PLUGIN_ERROR_H_
#define NOMTAG_CORE_PLUGIN_ERROR_H_

#include <nomtag/status.h>

#include <string>

#include "core/status.h"

namespace nomtag {

// A message buffer for one plugin call; pass &err.
struct PluginErrorBuffer {
  char text[1024] = {0};
  nomtag_error err{sizeof(nomtag_error), text, sizeof text};
};

// OK for NOMTAG_OK; otherwise the Status of the matching code with
// "<context>: <message>" (message: what the plugin wrote in its buffer).
Status StatusFromPlugin(nomtag_status code, const std::string& context,
                        const std::string& message);

}  // namespace nomtag

#endif  // NOMTAG_CORE_PLUGIN_ERROR_H_
