// `nomtag serve`: the HTTP API and the library page, in one process that
// loaded the plugins once and keeps the database open.
//
// Security: listens on loopback unless told otherwise; every /api/ request
// needs `Authorization: Bearer <token>` (the token file of access_token.h);
// the page gets the token through a one-time login link printed at start.
// Listening on a non-loopback address without the token is refused.
// Request bodies are capped (kMaxBody); bad input is a JSON 4xx.
#ifndef NOMTAG_SERVER_SERVE_H_
#define NOMTAG_SERVER_SERVE_H_

#include <cstdint>
#include <string>

#include "core/status.h"
#include "core/tiers.h"
#include "plugins/plugin_registry.h"
#include "store/storage_database.h"

namespace nomtag::server {

inline constexpr size_t kMaxBody = 64 * 1024;

struct ServeOptions {
  std::string listen = "127.0.0.1:8356";  // host:port; port 0 = any free one
  std::string token_path;                 // empty: DefaultTokenPath()
  bool no_token = false;  // only accepted on loopback (benchmarks, dev)
  int64_t lease_ms = 10 * 60 * 1000;
  TierRule tiers;  // plugins.yaml `tiers:`, for the mood tiers reconcile writes
};

// Splits "host:port" ("[::1]:8356" for IPv6). InvalidArgument otherwise.
Status ParseListen(const std::string& listen, std::string* host, int* port);
bool IsLoopback(const std::string& host);

// The options' own errors (a bad address, no token off loopback), for the
// caller to refuse them before it opens or creates anything.
Status CheckServeOptions(const ServeOptions& options);

// Serves until SIGINT or SIGTERM, then stops the running jobs (a reconcile
// stops after its current file; a scan finishes) and returns. Prints the
// address and the login link on stdout once listening. SIGINT and SIGTERM
// stay blocked afterwards: the caller is expected to exit.
// REQUIRES: registry and db outlive the call.
Status Serve(const ServeOptions& options, PluginRegistry& registry,
             StorageDatabase& db);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_SERVE_H_
