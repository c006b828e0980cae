// ForeignItems: a foreign snapshot held by the plugin itself.
//
// Plugins build their snapshot into this list and forward it to the host
// (read_foreign). The comparison before and after a write is the host's
// alone (host/write/verified_build.h): it runs once, on the built bytes.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_FOREIGN_SNAPSHOT_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_FOREIGN_SNAPSHOT_H_

#include <nomtag/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nomtag::plugins {

class ForeignItems {
 public:
  void Add(std::string id, std::string data) {
    items_.emplace_back(std::move(id), std::move(data));
  }
  void Add(std::string id, const char* data, size_t len) {
    items_.emplace_back(std::move(id), std::string(data, len));
  }
  const std::vector<std::pair<std::string, std::string>>& items() const {
    return items_;
  }
  bool operator==(const ForeignItems& o) const { return items_ == o.items_; }

  // Forwards every item to the host's sink, in order.
  void SendTo(const nomtag_snapshot_sink* sink) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_FOREIGN_SNAPSHOT_H_
