// StreamIO: a TagLib::IOStream over the host's nomtag_stream.
//
// TagLib reads and saves through it; every byte goes to the host's stream
// (an overlay in memory when writing), never to a file. TagLib expects its
// streams not to throw, so a failing callback is remembered instead:
// reads return short, writes do nothing, and the caller checks failed()
// after TagLib returns and reports NOMTAG_ERR_IO.
//
// One StreamIO per call, used by one thread.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_STREAM_IO_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_STREAM_IO_H_

#include <nomtag/stream.h>
#include <taglib/tiostream.h>

#include <string>

namespace nomtag::taglib {

class StreamIO : public TagLib::IOStream {
 public:
  // REQUIRES: stream outlives this object.
  explicit StreamIO(const nomtag_stream* stream);

  TagLib::FileName name() const override;
  TagLib::ByteVector readBlock(unsigned long length) override;
  void writeBlock(const TagLib::ByteVector& data) override;
  void insert(const TagLib::ByteVector& data, unsigned long start = 0,
              unsigned long replace = 0) override;
  void removeBlock(unsigned long start = 0, unsigned long length = 0) override;
  bool readOnly() const override;
  bool isOpen() const override { return true; }
  void seek(long offset, Position p = Beginning) override;
  void clear() override {}
  long tell() const override;
  long length() override;
  void truncate(long length) override;

  // True once a stream callback has failed; the first failure's text.
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Throws sdk::Error(NOMTAG_ERR_IO) when failed().
  void ThrowIfFailed() const;

 private:
  void Fail(const char* what, nomtag_status st);

  const nomtag_stream* stream_;
  long position_ = 0;
  std::string error_;
};

}  // namespace nomtag::taglib

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_STREAM_IO_H_
