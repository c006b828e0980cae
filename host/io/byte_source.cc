#include "io/byte_source.h"

#include <cstring>

namespace nomtag {

Status MemorySource::ReadAt(uint64_t offset, void* buf, size_t len,
                            size_t* got) {
  *got = 0;
  if (offset >= bytes_->size()) return Status::OK();
  *got = std::min<uint64_t>(len, bytes_->size() - offset);
  std::memcpy(buf, bytes_->data() + offset, *got);
  return Status::OK();
}

}  // namespace nomtag
