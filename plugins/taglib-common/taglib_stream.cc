#include "taglib_stream.h"

#include <algorithm>
#include <nomtag/cpp/error.hpp>
#include <string>

namespace nomtag::plugins {

TaglibStream::TaglibStream(const nomtag_stream* stream) : stream_(stream) {}

void TaglibStream::ThrowIfFailed(const char* during) const {
  if (failed_)
    throw sdk::Error(
        NOMTAG_ERR_IO,
        std::string(name()) + ": the host's stream failed during " + during);
}

TagLib::FileName TaglibStream::name() const {
  return stream_->name ? stream_->name : "(stream)";
}

bool TaglibStream::Check(nomtag_status st) {
  if (st != NOMTAG_OK) failed_ = true;
  return st == NOMTAG_OK;
}

TagLib::ByteVector TaglibStream::readBlock(unsigned long length) {
  uint64_t total = stream_->length(stream_->ctx);
  if (position_ >= total || length == 0) return TagLib::ByteVector();
  uint64_t want = std::min<uint64_t>(length, total - position_);
  TagLib::ByteVector buf(static_cast<unsigned int>(want));
  size_t got = 0;
  if (!Check(stream_->read(stream_->ctx, position_, buf.data(), want, &got)))
    return TagLib::ByteVector();
  buf.resize(static_cast<unsigned int>(got));
  position_ += got;
  return buf;
}

void TaglibStream::writeBlock(const TagLib::ByteVector& data) {
  if (Check(stream_->write(stream_->ctx, position_, data.data(), data.size())))
    position_ += data.size();
}

void TaglibStream::insert(const TagLib::ByteVector& data, unsigned long start,
                          unsigned long replace) {
  // TagLib's FileStream leaves the position just after the inserted data.
  if (Check(stream_->insert(stream_->ctx, start, data.data(), data.size(),
                            replace)))
    position_ = start + data.size();
}

void TaglibStream::removeBlock(unsigned long start, unsigned long length) {
  if (Check(stream_->remove(stream_->ctx, start, length))) position_ = start;
}

bool TaglibStream::readOnly() const { return stream_->read_only != 0; }

void TaglibStream::seek(long offset, Position p) {
  int64_t base = 0;
  if (p == Current) base = static_cast<int64_t>(position_);
  if (p == End) base = static_cast<int64_t>(stream_->length(stream_->ctx));
  int64_t target = base + offset;
  // TagLib probes before the start when scanning backwards; clamp as a
  // file would refuse, without moving past what exists.
  position_ = target < 0 ? 0 : static_cast<uint64_t>(target);
}

long TaglibStream::length() {
  return static_cast<long>(stream_->length(stream_->ctx));
}

void TaglibStream::truncate(long length) {
  Check(stream_->truncate(stream_->ctx, static_cast<uint64_t>(length)));
}

}  // namespace nomtag::plugins
