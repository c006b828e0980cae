#include "io/overlay_stream.h"

#include <algorithm>
#include <cstring>

namespace nomtag {
namespace {

OverlayStream* Self(void* ctx) { return static_cast<OverlayStream*>(ctx); }

// The C table's callbacks: statuses become plain codes (the plugin only
// needs to know that the stream failed; the overlay keeps no message).
nomtag_status ToCode(const Status& s) {
  return s.ok() ? NOMTAG_OK : NOMTAG_ERR_IO;
}
uint64_t CLength(void* ctx) { return Self(ctx)->length(); }
nomtag_status CRead(void* ctx, uint64_t offset, void* buf, size_t len,
                    size_t* got) {
  return ToCode(Self(ctx)->Read(offset, buf, len, got));
}
nomtag_status CWrite(void* ctx, uint64_t offset, const void* buf, size_t len) {
  return ToCode(Self(ctx)->Write(offset, buf, len));
}
nomtag_status CInsert(void* ctx, uint64_t offset, const void* buf, size_t len,
                      uint64_t replace) {
  return ToCode(Self(ctx)->Insert(offset, buf, len, replace));
}
nomtag_status CRemove(void* ctx, uint64_t offset, uint64_t len) {
  return ToCode(Self(ctx)->Remove(offset, len));
}
nomtag_status CTruncate(void* ctx, uint64_t len) {
  return ToCode(Self(ctx)->Truncate(len));
}

}  // namespace

OverlayStream::OverlayStream(ByteSource* base, bool read_only)
    : base_(base), length_(base->size()) {
  if (length_ > 0) pieces_.push_back({true, 0, 0, length_});
  table_ = {sizeof(nomtag_stream),
            this,
            base_->name().c_str(),
            read_only ? 1 : 0,
            CLength,
            CRead,
            CWrite,
            CInsert,
            CRemove,
            CTruncate};
}

Status OverlayStream::Read(uint64_t offset, void* buf, size_t len,
                           size_t* got) {
  *got = 0;
  auto* out = static_cast<char*>(buf);
  uint64_t start = 0;
  for (const Piece& p : pieces_) {
    if (*got == len) break;
    uint64_t end = start + p.length;
    uint64_t at = offset + *got;
    if (at < end && at >= start) {
      uint64_t in_piece = at - start;
      size_t n = std::min<uint64_t>(len - *got, p.length - in_piece);
      if (p.from_base) {
        size_t read = 0;
        Status s =
            base_->ReadAt(p.base_offset + in_piece, out + *got, n, &read);
        if (!s.ok()) return s;
        if (read != n)
          return Status::IoError(base_->name() +
                                 ": the file got shorter while being read");
      } else {
        std::memcpy(out + *got, added_.data() + p.added_offset + in_piece, n);
      }
      *got += n;
    }
    start = end;
  }
  return Status::OK();
}

size_t OverlayStream::SplitAt(uint64_t offset) {
  uint64_t start = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    Piece& p = pieces_[i];
    if (offset == start) return i;
    if (offset < start + p.length) {
      uint64_t head = offset - start;
      Piece tail = p;
      tail.length = p.length - head;
      if (p.from_base)
        tail.base_offset += head;
      else
        tail.added_offset += head;
      p.length = head;
      pieces_.insert(pieces_.begin() + i + 1, tail);
      return i + 1;
    }
    start += p.length;
  }
  return pieces_.size();
}

Status OverlayStream::Insert(uint64_t offset, const void* data, size_t len,
                             uint64_t replace) {
  if (table_.read_only)
    return Status::Internal(base_->name() + ": edit of a read-only overlay");
  if (offset > length_)
    return Status::InvalidArgument(base_->name() + ": edit past the end");
  replace = std::min(replace, length_ - offset);
  if (len == 0 && replace == 0) return Status::OK();
  size_t first = SplitAt(offset);
  size_t last = SplitAt(offset + replace);
  pieces_.erase(pieces_.begin() + first, pieces_.begin() + last);
  if (len > 0) {
    Piece added{false, 0, added_.size(), len};
    if (data != nullptr)
      added_.append(static_cast<const char*>(data), len);
    else
      added_.append(len, '\0');
    pieces_.insert(pieces_.begin() + first, added);
  }
  length_ = length_ - replace + len;
  edited_ = true;
  return Status::OK();
}

Status OverlayStream::Write(uint64_t offset, const void* data, size_t len) {
  if (offset > length_)
    return Status::InvalidArgument(base_->name() + ": write past the end");
  return Insert(offset, data, len, std::min<uint64_t>(len, length_ - offset));
}

Status OverlayStream::Remove(uint64_t offset, uint64_t len) {
  return Insert(offset, nullptr, 0, len);
}

Status OverlayStream::Truncate(uint64_t len) {
  if (len < length_) return Remove(len, length_ - len);
  if (len > length_) return Insert(length_, nullptr, len - length_, 0);
  return Status::OK();
}

bool OverlayStream::PreservesOffsets() const {
  if (length_ < base_->size()) return false;
  uint64_t start = 0;
  for (const Piece& p : pieces_) {
    if (p.from_base && p.base_offset != start) return false;
    start += p.length;
  }
  return true;
}

std::optional<uint64_t> OverlayStream::BaseOffsetOf(uint64_t offset,
                                                    uint64_t len) const {
  uint64_t start = 0;
  std::optional<uint64_t> base;
  uint64_t expect = 0;  // the base offset the next covering byte must have
  uint64_t end = offset + len;
  for (const Piece& p : pieces_) {
    uint64_t p_end = start + p.length;
    if (p_end > offset && start < end) {
      if (!p.from_base) return std::nullopt;
      uint64_t from = std::max(start, offset);
      uint64_t here = p.base_offset + (from - start);
      if (!base) {
        base = here;
      } else if (here != expect) {
        return std::nullopt;
      }
      expect = here + (std::min(p_end, end) - from);
    }
    start = p_end;
  }
  if (len == 0) return offset;
  if (!base || offset + len > length_) return std::nullopt;
  return base;
}

Status OverlayStream::ShareUnchangedBytes() {
  // Shorter equal runs are not worth a piece of their own.
  constexpr uint64_t kMinRun = 32;
  std::vector<Piece> out;
  std::string original;
  uint64_t pos = 0;
  for (const Piece& p : pieces_) {
    uint64_t overlap = p.from_base || pos >= base_->size()
                           ? 0
                           : std::min<uint64_t>(p.length, base_->size() - pos);
    if (overlap == 0) {
      out.push_back(p);
      pos += p.length;
      continue;
    }
    original.resize(overlap);
    if (Status s = ReadExactly(*base_, pos, original.data(), overlap); !s.ok())
      return s;
    const char* added = added_.data() + p.added_offset;
    uint64_t i = 0;
    while (i < p.length) {
      // An equal run at i, within the original?
      uint64_t j = i;
      while (j < overlap && added[j] == original[j]) ++j;
      if (j - i >= kMinRun) {
        out.push_back({true, pos + i, 0, j - i});
        i = j;
        continue;
      }
      // Otherwise extend the added run up to the next long equal run.
      uint64_t k = std::max(j, i + 1);
      while (k < p.length) {
        uint64_t e = k;
        while (e < overlap && e - k < kMinRun && added[e] == original[e]) ++e;
        if (e - k >= kMinRun) break;
        k = std::max(e, k + 1);
      }
      Piece rest{false, 0, p.added_offset + i, k - i};
      if (!out.empty() && !out.back().from_base &&
          out.back().added_offset + out.back().length == rest.added_offset)
        out.back().length += rest.length;
      else
        out.push_back(rest);
      i = k;
    }
    pos += p.length;
  }
  // Merge neighbouring original pieces that continue each other.
  pieces_.clear();
  for (const Piece& p : out) {
    if (!pieces_.empty() && p.from_base && pieces_.back().from_base &&
        pieces_.back().base_offset + pieces_.back().length == p.base_offset)
      pieces_.back().length += p.length;
    else
      pieces_.push_back(p);
  }
  return Status::OK();
}

uint64_t OverlayStream::AddedBytes() const {
  uint64_t n = 0;
  for (const Piece& p : pieces_)
    if (!p.from_base) n += p.length;
  return n;
}

}  // namespace nomtag
