// The library page, compiled into the binary at build time (web/, bundled
// by esbuild; cmake/EmbedWebAssets.cmake writes web_assets.cc), so that
// `nomtag serve` needs no file beside it.
#ifndef NOMTAG_SERVER_WEB_ASSETS_H_
#define NOMTAG_SERVER_WEB_ASSETS_H_

#include <cstddef>

namespace nomtag::server {

struct WebAsset {
  const char* name;  // "index.html", "app.js", ...
  const char* mime;
  const unsigned char* data;
  size_t size;
};

// The asset of that exact name, or null.
const WebAsset* FindWebAsset(const char* name);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_WEB_ASSETS_H_
