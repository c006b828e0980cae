// Thin C++ views of the host's sinks (format.h) for plugin code.
//
// Each call forwards to the host's callback and throws sdk::Error with the
// host's status when it returns non-OK, so a stopped read unwinds to the
// plugin's guard() and returns that status. Not thread-safe; valid for the
// plugin call that received the sink.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_

#include <nomtag/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace nomtag::plugins {

class TagSink {
 public:
  explicit TagSink(const nomtag_tag_sink* sink);
  void Add(std::string_view key, std::string_view value,
           nomtag_key_encoding encoding) const;

 private:
  const nomtag_tag_sink* sink_;
};

class SnapshotSink {
 public:
  explicit SnapshotSink(const nomtag_snapshot_sink* sink);
  void Item(std::string_view id, std::string_view data) const;

 private:
  const nomtag_snapshot_sink* sink_;
};

// Merges adjacent ranges before forwarding, so the same payload split
// differently by the container reports the same way.
class PayloadSink {
 public:
  explicit PayloadSink(const nomtag_payload_sink* sink);
  ~PayloadSink() = default;
  void Range(uint64_t offset, uint64_t length);
  void Bytes(std::string_view data);
  // The host accepts a coarse description this time
  // (NOMTAG_PAYLOAD_COARSE_OK, ABI 1.8).
  bool CoarseAllowed() const;
  // Forwards the pending range. Call once at the end.
  void Flush();

 private:
  const nomtag_payload_sink* sink_;
  uint64_t pending_offset_ = 0;
  uint64_t pending_length_ = 0;
};

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_SINKS_H_
