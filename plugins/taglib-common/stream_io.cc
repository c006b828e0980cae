#include "stream_io.h"

#include <algorithm>
#include <nomtag/cpp/error.hpp>
#include <vector>

namespace nomtag::taglib {

StreamIO::StreamIO(const nomtag_stream* stream) : stream_(stream) {}

TagLib::FileName StreamIO::name() const {
  return stream_->name ? stream_->name : "(stream)";
}

void StreamIO::Fail(const char* what, nomtag_status st) {
  if (error_.empty())
    error_ = std::string("stream ") + what + " failed (status " +
             std::to_string(st) + ")";
}

void StreamIO::ThrowIfFailed() const {
  if (failed())
    throw sdk::Error(NOMTAG_ERR_IO, std::string(name()) + ": " + error_);
}

TagLib::ByteVector StreamIO::readBlock(unsigned long length) {
  if (length == 0 || position_ < 0) return TagLib::ByteVector();
  TagLib::ByteVector out(static_cast<unsigned int>(length), '\0');
  size_t got = 0;
  nomtag_status st =
      stream_->read(stream_->ctx, position_, out.data(), length, &got);
  if (st != NOMTAG_OK) {
    Fail("read", st);
    return TagLib::ByteVector();
  }
  out.resize(static_cast<unsigned int>(got));
  position_ += static_cast<long>(got);
  return out;
}

void StreamIO::writeBlock(const TagLib::ByteVector& data) {
  if (failed()) return;
  // TagLib may seek past the end before writing; the gap reads as zeros.
  long len = length();
  if (position_ > len) truncate(position_);
  nomtag_status st =
      stream_->write(stream_->ctx, position_, data.data(), data.size());
  if (st != NOMTAG_OK) return Fail("write", st);
  position_ += data.size();
}

void StreamIO::insert(const TagLib::ByteVector& data, unsigned long start,
                      unsigned long replace) {
  if (failed()) return;
  nomtag_status st =
      stream_->insert(stream_->ctx, start, data.data(), data.size(), replace);
  if (st != NOMTAG_OK) return Fail("insert", st);
  position_ = static_cast<long>(start + data.size());
}

void StreamIO::removeBlock(unsigned long start, unsigned long length) {
  if (failed() || length == 0) return;
  nomtag_status st = stream_->remove(stream_->ctx, start, length);
  if (st != NOMTAG_OK) return Fail("remove", st);
  position_ = static_cast<long>(start);
}

bool StreamIO::readOnly() const { return stream_->read_only != 0; }

void StreamIO::seek(long offset, Position p) {
  switch (p) {
    case Beginning:
      position_ = offset;
      break;
    case Current:
      position_ += offset;
      break;
    case End:
      position_ = length() + offset;
      break;
  }
  if (position_ < 0) position_ = 0;
}

long StreamIO::tell() const { return position_; }

long StreamIO::length() {
  return static_cast<long>(stream_->length(stream_->ctx));
}

void StreamIO::truncate(long length) {
  if (failed()) return;
  nomtag_status st = stream_->truncate(stream_->ctx, length);
  if (st != NOMTAG_OK) Fail("truncate", st);
}

}  // namespace nomtag::taglib
