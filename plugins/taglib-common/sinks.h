// Thin C++ fronts for the host's sinks: each call forwards to the C
// callback and throws sdk::Error when the host answers with an error, so
// the plugin's walk stops and guard() returns the host's status.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_

#include <nomtag/format.h>

#include <cstdint>
#include <nomtag/cpp/error.hpp>
#include <string>
#include <string_view>

namespace nomtag::taglib {

class TagSink {
 public:
  explicit TagSink(const nomtag_tag_sink* s) : s_(s) {}
  void Add(std::string_view key, std::string_view value,
           nomtag_key_encoding encoding) const {
    Check(s_->add(s_->ctx, key.data(), key.size(), value.data(), value.size(),
                  encoding));
  }

 private:
  static void Check(nomtag_status st) {
    if (st != NOMTAG_OK) throw sdk::Error(st, "the host's tag sink refused");
  }
  const nomtag_tag_sink* s_;
};

class SnapshotSink {
 public:
  explicit SnapshotSink(const nomtag_snapshot_sink* s) : s_(s) {}
  void Item(std::string_view id, std::string_view data) const {
    nomtag_status st =
        s_->item(s_->ctx, id.data(), id.size(), data.data(), data.size());
    if (st != NOMTAG_OK)
      throw sdk::Error(st, "the host's snapshot sink refused");
  }

 private:
  const nomtag_snapshot_sink* s_;
};

class PayloadSink {
 public:
  explicit PayloadSink(const nomtag_payload_sink* s) : s_(s) {}
  void Range(uint64_t offset, uint64_t length) const {
    if (length == 0) return;
    nomtag_status st = s_->range(s_->ctx, offset, length);
    if (st != NOMTAG_OK)
      throw sdk::Error(st, "the host's payload sink refused");
  }
  void Bytes(std::string_view data) const {
    nomtag_status st = s_->bytes(s_->ctx, data.data(), data.size());
    if (st != NOMTAG_OK)
      throw sdk::Error(st, "the host's payload sink refused");
  }

 private:
  const nomtag_payload_sink* s_;
};

}  // namespace nomtag::taglib

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_
