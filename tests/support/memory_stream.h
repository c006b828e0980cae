// MemoryStream: a nomtag_stream over a byte vector, for driving format
// plugins on buffers in tests.
//
// Implements every callback of stream.h with the semantics TagLib's
// FileStream has (insert replaces and shifts, remove shifts down, write
// past the end extends). Not thread-safe.
#ifndef NOMTAG_TESTS_SUPPORT_MEMORY_STREAM_H_
#define NOMTAG_TESTS_SUPPORT_MEMORY_STREAM_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::testing {

class MemoryStream {
 public:
  explicit MemoryStream(std::vector<uint8_t> bytes, std::string name = "mem",
                        bool read_only = false);
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;

  // The table to hand to a plugin; valid while this object lives.
  const nomtag_stream& stream() const { return table_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t>& bytes() { return bytes_; }

  // How many editing callbacks (write/insert/remove/truncate) ran.
  int edits() const { return edits_; }

 private:
  static uint64_t Length(void* ctx);
  static nomtag_status Read(void* ctx, uint64_t offset, void* buf, size_t len,
                            size_t* out_read);
  static nomtag_status Write(void* ctx, uint64_t offset, const void* buf,
                             size_t len);
  static nomtag_status Insert(void* ctx, uint64_t offset, const void* buf,
                              size_t len, uint64_t replace);
  static nomtag_status Remove(void* ctx, uint64_t offset, uint64_t len);
  static nomtag_status Truncate(void* ctx, uint64_t len);

  std::vector<uint8_t> bytes_;
  std::string name_;
  int edits_ = 0;
  nomtag_stream table_;
};

}  // namespace nomtag::testing

#endif  // NOMTAG_TESTS_SUPPORT_MEMORY_STREAM_H_
