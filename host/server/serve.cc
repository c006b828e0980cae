// The server's life: token, routes, guards, listen, stop on a signal.
#include "server/serve.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "server/access_token.h"
#include "server/api.h"
#include "server/http_json.h"

namespace nomtag::server {

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Status::InvalidArgument("--listen takes HOST:PORT, not '" + listen +
                                   "'");
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  int64_t p = 0;
  if (!ParseId(listen.substr(colon + 1), &p) || p > 65535)
    return Status::InvalidArgument("--listen: the port is 0 to 65535");
  *port = static_cast<int>(p);
  return Status::OK();
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

// Requests under /api/ carry the token; the page and /login do not.
httplib::Server::HandlerResponse CheckToken(const std::string& token,
                                            const httplib::Request& req,
                                            httplib::Response& res) {
  if (token.empty() || req.path.rfind("/api/", 0) != 0)
    return httplib::Server::HandlerResponse::Unhandled;
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (auth.rfind(prefix, 0) == 0 &&
      SameSecret(std::string_view(auth).substr(prefix.size()), token))
    return httplib::Server::HandlerResponse::Unhandled;
  res.set_header("WWW-Authenticate", "Bearer");
  SendError(res, 401,
            "missing or wrong access token: open the login link that "
            "`nomtag serve` printed, or send Authorization: Bearer <the "
            "token in the serve-token file>");
  return httplib::Server::HandlerResponse::Handled;
}

const char* ReasonFor(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 413:
      return "Request body too large (at most 64 KiB)";
    case 414:
      return "URI too long";
    default:
      return "Request failed";
  }
}

}  // namespace

Status CheckServeOptions(const ServeOptions& options) {
  std::string host;
  int port = 0;
  if (Status s = ParseListen(options.listen, &host, &port); !s.ok()) return s;
  if (options.no_token && !IsLoopback(host))
    return Status::Refused("refusing to listen on " + host +
                           " without an access token: only loopback "
                           "addresses may go without one");
  return Status::OK();
}

Status Serve(const ServeOptions& options, PluginRegistry& registry,
             StorageDatabase& db) {
  if (Status s = CheckServeOptions(options); !s.ok()) return s;
  std::string host;
  int port = 0;
  if (Status s = ParseListen(options.listen, &host, &port); !s.ok()) return s;
  std::string token;
  if (!options.no_token) {
    auto t = LoadOrCreateToken(options.token_path.empty() ? DefaultTokenPath()
                                                          : options.token_path);
    if (!t.ok()) return t.status();
    token = *t;
  }
  auto login_code = RandomHex(16);
  if (!login_code.ok()) return login_code.status();
  if (registry.storages().empty())
    return Status::NotFound("no storage plugin is loaded");

  // SIGINT and SIGTERM go to one thread that stops the server (blocked
  // here, before any thread starts, so every thread inherits the mask).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Status result;
  {
    Api api;
    api.registry = &registry;
    api.db = &db;
    api.lease_ms = options.lease_ms;
    api.tiers = options.tiers;

    httplib::Server server;
    server.set_payload_max_length(kMaxBody);
    // Headers and body go out in separate writes: without TCP_NODELAY each
    // keep-alive answer waits for the client's delayed ACK (~40 ms; seen
    // as 260 requests/s for the embedded page in bench/serve_bench.sh).
    server.set_tcp_nodelay(true);
    server.set_pre_routing_handler(
        [token](const httplib::Request& req, httplib::Response& res) {
          return CheckToken(token, req, res);
        });
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request&, httplib::Response& res) {
          if (res.body.empty())
            SendError(res, res.status, ReasonFor(res.status));
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler([](const httplib::Request&,
                                    httplib::Response& res,
                                    std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what += std::string(": ") + e.what();
      } catch (...) {
      }
      SendError(res, 500, what);
    });
    AddLibraryRoutes(server, api);
    AddJobRoutes(server, api);
    AddCalibrationRoutes(server, api);
    AddAnalysisRoutes(server, api);
    AddPageRoutes(server, token, *login_code);

    if (port == 0)
      port = server.bind_to_any_port(host.c_str());
    else if (!server.bind_to_port(host.c_str(), port))
      port = -1;
    if (port < 0) return Status::IoError("cannot listen on " + options.listen);
    const std::string shown_host =
        host.find(':') != std::string::npos ? "[" + host + "]" : host;
    const std::string base =
        "http://" + shown_host + ":" + std::to_string(port);
    std::printf("nomtag serve: listening on %s (database %s)\n", base.c_str(),
                db.location().c_str());
    if (token.empty())
      std::printf("nomtag serve: no access token (loopback only): open %s/\n",
                  base.c_str());
    else
      std::printf("nomtag serve: open %s/login?code=%s (works once)\n",
                  base.c_str(), login_code->c_str());
    std::fflush(stdout);

    std::atomic<bool> signalled{false};
    std::atomic<bool> listen_ended{false};
    std::thread stopper([&server, &signalled, &listen_ended, stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      signalled = true;
      // httplib's stop() does nothing to a server not yet listening: a
      // signal that came right after the login link (before
      // listen_after_bind got going) was lost, and serve ran on. Seen
      // under load as ServeStartTest's SIGTERM killed after 30 s.
      while (!listen_ended) {
        server.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    const bool listened = server.listen_after_bind();
    listen_ended = true;
    if (!listened && !signalled)
      result = Status::IoError("the server stopped with an error");
    // Wake the stopper when the server ended on its own. (A signal left
    // pending stays blocked: the process is about to end.)
    if (!signalled) ::kill(::getpid(), SIGTERM);
    stopper.join();
    std::printf("nomtag serve: stopping; waiting for running jobs\n");
    std::fflush(stdout);
  }  // ~Api: asks the jobs to stop and waits for them
  return result;
}

}  // namespace nomtag::server
