#include "sinks.h"

#include <nomtag/cpp/error.hpp>

namespace nomtag::plugins {
namespace {

void Check(nomtag_status st, const char* what) {
  if (st != NOMTAG_OK)
    throw sdk::Error(st, std::string("the host's ") + what + " sink stopped");
}

// The size is checked before any callback slot is read: a smaller table
// does not have them.
template <class Sink>
const Sink* Require(const Sink* sink) {
  if (sink == nullptr || sink->struct_size < sizeof(Sink))
    throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "invalid sink table");
  return sink;
}

void RequireCallbacks(bool present) {
  if (!present)
    throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "sink without callbacks");
}

}  // namespace

TagSink::TagSink(const nomtag_tag_sink* sink) : sink_(Require(sink)) {
  RequireCallbacks(sink_->add != nullptr);
}

void TagSink::Add(std::string_view key, std::string_view value,
                  nomtag_key_encoding encoding) const {
  Check(sink_->add(sink_->ctx, key.data(), key.size(), value.data(),
                   value.size(), encoding),
        "tag");
}

SnapshotSink::SnapshotSink(const nomtag_snapshot_sink* sink)
    : sink_(Require(sink)) {
  RequireCallbacks(sink_->item != nullptr);
}

void SnapshotSink::Item(std::string_view id, std::string_view data) const {
  Check(sink_->item(sink_->ctx, id.data(), id.size(), data.data(), data.size()),
        "snapshot");
}

PayloadSink::PayloadSink(const nomtag_payload_sink* sink)
    : sink_(Require(sink)) {
  RequireCallbacks(sink_->range != nullptr && sink_->bytes != nullptr);
}

bool PayloadSink::CoarseAllowed() const {
  return NOMTAG_HAS_FIELD(sink_, nomtag_payload_sink, flags) &&
         (sink_->flags & NOMTAG_PAYLOAD_COARSE_OK) != 0;
}

void PayloadSink::Range(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  if (pending_length_ != 0 && pending_offset_ + pending_length_ == offset) {
    pending_length_ += length;
    return;
  }
  Flush();
  pending_offset_ = offset;
  pending_length_ = length;
}

void PayloadSink::Bytes(std::string_view data) {
  Flush();
  Check(sink_->bytes(sink_->ctx, data.data(), data.size()), "payload");
}

void PayloadSink::Flush() {
  if (pending_length_ == 0) return;
  Check(sink_->range(sink_->ctx, pending_offset_, pending_length_), "payload");
  pending_length_ = 0;
}

}  // namespace nomtag::plugins
