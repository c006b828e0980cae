// ByteSource: the original bytes of a file, read-only.
//
// The overlay reads the original through this interface, so tests can put
// a buffer behind it and the real one (FileSource) can cache reads.
#ifndef NOMTAG_IO_BYTE_SOURCE_H_
#define NOMTAG_IO_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace nomtag {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to len bytes at offset into buf; *got is less than len only
  // at the end. Not thread-safe.
  virtual Status ReadAt(uint64_t offset, void* buf, size_t len,
                        size_t* got) = 0;
  virtual uint64_t size() const = 0;
  // For messages: the file's path, or a description.
  virtual const std::string& name() const = 0;
};

// Reads exactly len bytes at offset into buf: an IoError naming the source
// when it ends first (the file got shorter while it was being read).
Status ReadExactly(ByteSource& source, uint64_t offset, void* buf, size_t len);

// A ByteSource over a string the caller keeps alive.
class MemorySource : public ByteSource {
 public:
  MemorySource(const std::string* bytes, std::string name)
      : bytes_(bytes), name_(std::move(name)) {}
  Status ReadAt(uint64_t offset, void* buf, size_t len, size_t* got) override;
  uint64_t size() const override { return bytes_->size(); }
  const std::string& name() const override { return name_; }

 private:
  const std::string* bytes_;
  std::string name_;
};

}  // namespace nomtag

#endif  // NOMTAG_IO_BYTE_SOURCE_H_
