// nomtag SDK C++ helpers — a plugin's view of a nomtag_stream.
//
// StreamRef borrows the host's table for the duration of one call and
// throws sdk::Error (NOMTAG_ERR_IO) when a callback fails, so plugin code
// can read and edit like any C++ stream. Not thread-safe; do not keep it
// past the call that received the table.
#ifndef NOMTAG_CPP_STREAM_HPP
#define NOMTAG_CPP_STREAM_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "../stream.h"
#include "error.hpp"

namespace nomtag::sdk {

class StreamRef {
 public:
  explicit StreamRef(const nomtag_stream* s) : s_(s) {
    if (s_ == nullptr || s_->struct_size < sizeof(nomtag_stream))
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "invalid stream table");
  }

  const char* name() const { return s_->name ? s_->name : "(stream)"; }
  bool read_only() const { return s_->read_only != 0; }
  uint64_t length() const { return s_->length(s_->ctx); }

  // Reads up to len bytes at offset; fewer only at the end.
  std::vector<uint8_t> read(uint64_t offset, size_t len) const {
    std::vector<uint8_t> buf(len);
    size_t got = 0;
    check(s_->read(s_->ctx, offset, buf.data(), len, &got), "read");
    buf.resize(got);
    return buf;
  }
  size_t read_into(uint64_t offset, void* buf, size_t len) const {
    size_t got = 0;
    check(s_->read(s_->ctx, offset, buf, len, &got), "read");
    return got;
  }
  void write(uint64_t offset, const void* buf, size_t len) const {
    check(s_->write(s_->ctx, offset, buf, len), "write");
  }
  void insert(uint64_t offset, const void* buf, size_t len,
              uint64_t replace) const {
    check(s_->insert(s_->ctx, offset, buf, len, replace), "insert");
  }
  void remove(uint64_t offset, uint64_t len) const {
    check(s_->remove(s_->ctx, offset, len), "remove");
  }
  void truncate(uint64_t len) const {
    check(s_->truncate(s_->ctx, len), "truncate");
  }

 private:
  void check(nomtag_status st, const char* what) const {
    if (st != NOMTAG_OK)
      throw Error(NOMTAG_ERR_IO,
                  std::string("stream ") + what + " failed on " + name());
  }
  const nomtag_stream* s_;
};

}  // namespace nomtag::sdk

#endif
