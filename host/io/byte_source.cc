#include "io/byte_source.h"

#include <cstring>

namespace nomtag {

Status ReadExactly(ByteSource& source, uint64_t offset, void* buf, size_t len) {
  size_t got = 0;
  if (Status s = source.ReadAt(offset, buf, len, &got); !s.ok()) return s;
  if (got != len)
    return Status::IoError(source.name() +
                           ": the file got shorter while it was read");
  return Status::OK();
}

Status MemorySource::ReadAt(uint64_t offset, void* buf, size_t len,
                            size_t* got) {
  *got = 0;
  if (offset >= bytes_->size()) return Status::OK();
  *got = std::min<uint64_t>(len, bytes_->size() - offset);
  std::memcpy(buf, bytes_->data() + offset, *got);
  return Status::OK();
}

}  // namespace nomtag
