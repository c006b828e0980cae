// TaglibStream: a TagLib::IOStream over the host's nomtag_stream.
//
// TagLib's file classes read and save through this adapter, so a plugin
// never opens a file: reads, overwrites, inserts and removals become calls
// of the host's stream table (an in-memory overlay during writes).
//
// TagLib has no error channel for stream failures and is not written to be
// unwound through, so callbacks never throw here: a failed call is recorded
// and a failed read returns no bytes (TagLib sees end of stream). Callers
// check failed() after each TagLib call and report NOMTAG_ERR_IO.
//
// Thread contract: one thread, for the duration of one plugin call.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_TAGLIB_STREAM_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_TAGLIB_STREAM_H_

#include <nomtag/stream.h>
#include <taglib/tiostream.h>

#include <cstdint>
#include <string>

namespace nomtag::plugins {

class TaglibStream : public TagLib::IOStream {
 public:
  // REQUIRES: stream is valid for the lifetime of this object.
  explicit TaglibStream(const nomtag_stream* stream);

  // True once any callback of the host's stream failed.
  bool failed() const { return failed_; }
  // Throws sdk::Error(NOMTAG_ERR_IO) naming the stream when failed().
  void ThrowIfFailed(const char* during) const;

  TagLib::FileName name() const override;
  TagLib::ByteVector readBlock(unsigned long length) override;
  void writeBlock(const TagLib::ByteVector& data) override;
  void insert(const TagLib::ByteVector& data, unsigned long start = 0,
              unsigned long replace = 0) override;
  void removeBlock(unsigned long start = 0, unsigned long length = 0) override;
  bool readOnly() const override;
  bool isOpen() const override { return true; }
  void seek(long offset, Position p = Beginning) override;
  long tell() const override { return static_cast<long>(position_); }
  long length() override;
  void truncate(long length) override;

 private:
  bool Check(nomtag_status st);

  const nomtag_stream* stream_;
  uint64_t position_ = 0;
  bool failed_ = false;
};

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_TAGLIB_STREAM_H_
