#include "memory_stream.h"

#include <algorithm>
#include <cstring>

namespace nomtag::testing {
namespace {

MemoryStream* Self(void* ctx) { return static_cast<MemoryStream*>(ctx); }

}  // namespace

MemoryStream::MemoryStream(std::vector<uint8_t> bytes, std::string name,
                           bool read_only)
    : bytes_(std::move(bytes)), name_(std::move(name)) {
  table_ = nomtag_stream{sizeof(nomtag_stream), this,
                         name_.c_str(),         read_only ? 1 : 0,
                         &MemoryStream::Length, &MemoryStream::Read,
                         &MemoryStream::Write,  &MemoryStream::Insert,
                         &MemoryStream::Remove, &MemoryStream::Truncate};
}

uint64_t MemoryStream::Length(void* ctx) { return Self(ctx)->bytes_.size(); }

nomtag_status MemoryStream::Read(void* ctx, uint64_t offset, void* buf,
                                 size_t len, size_t* out_read) {
  auto& b = Self(ctx)->bytes_;
  *out_read = 0;
  if (offset > b.size()) return NOMTAG_ERR_INVALID_ARGUMENT;
  size_t n = std::min<uint64_t>(len, b.size() - offset);
  if (n) std::memcpy(buf, b.data() + offset, n);
  *out_read = n;
  return NOMTAG_OK;
}

nomtag_status MemoryStream::Write(void* ctx, uint64_t offset, const void* buf,
                                  size_t len) {
  auto* s = Self(ctx);
  if (s->table_.read_only || offset > s->bytes_.size())
    return NOMTAG_ERR_INVALID_ARGUMENT;
  ++s->edits_;
  if (offset + len > s->bytes_.size()) s->bytes_.resize(offset + len);
  if (len) std::memcpy(s->bytes_.data() + offset, buf, len);
  return NOMTAG_OK;
}

nomtag_status MemoryStream::Insert(void* ctx, uint64_t offset, const void* buf,
                                   size_t len, uint64_t replace) {
  auto* s = Self(ctx);
  auto& b = s->bytes_;
  if (s->table_.read_only || offset > b.size())
    return NOMTAG_ERR_INVALID_ARGUMENT;
  ++s->edits_;
  replace = std::min<uint64_t>(replace, b.size() - offset);
  const auto* p = static_cast<const uint8_t*>(buf);
  b.erase(b.begin() + offset, b.begin() + offset + replace);
  b.insert(b.begin() + offset, p, p + len);
  return NOMTAG_OK;
}

nomtag_status MemoryStream::Remove(void* ctx, uint64_t offset, uint64_t len) {
  auto* s = Self(ctx);
  auto& b = s->bytes_;
  if (s->table_.read_only || offset > b.size())
    return NOMTAG_ERR_INVALID_ARGUMENT;
  ++s->edits_;
  len = std::min<uint64_t>(len, b.size() - offset);
  b.erase(b.begin() + offset, b.begin() + offset + len);
  return NOMTAG_OK;
}

nomtag_status MemoryStream::Truncate(void* ctx, uint64_t len) {
  auto* s = Self(ctx);
  if (s->table_.read_only) return NOMTAG_ERR_INVALID_ARGUMENT;
  ++s->edits_;
  s->bytes_.resize(len);
  return NOMTAG_OK;
}

}  // namespace nomtag::testing
