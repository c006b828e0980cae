// The page and its assets, served from the binary (never from the disk,
// so no URL can read a file), and the one-time login link that hands the
// page the access token.
#include <atomic>
#include <memory>
#include <mutex>

#include "server/access_token.h"
#include "server/api.h"
#include "server/http_json.h"
#include "server/web_assets.h"

namespace nomtag::server {
namespace {

void SetPageHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; "
                 "frame-ancestors 'none'");
}

void SendAsset(const std::string& name, httplib::Response& res) {
  const WebAsset* asset = FindWebAsset(name.c_str());
  if (asset == nullptr) return SendError(res, 404, "Not found");
  SetPageHeaders(res);
  res.set_header("Cache-Control", "no-cache");
  res.set_content(reinterpret_cast<const char*>(asset->data), asset->size,
                  asset->mime);
}

}  // namespace

void AddPageRoutes(httplib::Server& server, const std::string& token,
                   const std::string& login_code) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    SendAsset("index.html", res);
  });
  // Only names of embedded assets: letters, digits, '-', '_' and one dot.
  server.Get(R"(/assets/([A-Za-z0-9_-]+\.[a-z]+))",
             [](const httplib::Request& req, httplib::Response& res) {
               SendAsset(req.matches[1].str(), res);
             });
  // /login?code=C, once: sends the browser to the page with the token in
  // the fragment (never sent to a server); the page keeps it and drops it
  // from the address bar. A second use of the code is refused.
  auto used = std::make_shared<std::atomic<bool>>(false);
  server.Get("/login", [token, login_code, used](const httplib::Request& req,
                                                 httplib::Response& res) {
    SetPageHeaders(res);
    res.set_header("Cache-Control", "no-store");
    if (!req.has_param("code") ||
        !SameSecret(req.get_param_value("code"), login_code) ||
        used->exchange(true)) {
      res.status = 403;
      res.set_content(
          "This login link is not valid (it works once). Restart `nomtag "
          "serve` for a new one.\n",
          "text/plain");
      return;
    }
    res.status = 303;
    res.set_header("Location", "/#token=" + token);
  });
}

}  // namespace nomtag::server
