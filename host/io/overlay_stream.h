// OverlayStream: a file as edited in memory, over its unchanged original.
//
// A piece table: the stream is a sequence of pieces, each either a range
// of the original (read through a ByteSource) or bytes added by an edit.
// write/insert/remove/truncate edit the table and never touch the disk, so
// a format plugin can save into it freely; afterwards the pieces describe
// the new file as "these ranges of the old one plus these new bytes",
// which is what verification and the commit need.
//
// The original must not change while the overlay lives (the commit checks
// the file's identity before writing). Not thread-safe.
#ifndef NOMTAG_IO_OVERLAY_STREAM_H_
#define NOMTAG_IO_OVERLAY_STREAM_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/byte_source.h"

namespace nomtag {

class OverlayStream {
 public:
  struct Piece {
    bool from_base = true;
    uint64_t base_offset = 0;   // when from_base
    uint64_t added_offset = 0;  // into added bytes, when !from_base
    uint64_t length = 0;
  };

  // REQUIRES: base outlives the overlay. A read-only overlay refuses every
  // edit (for reading the original through the same code path).
  OverlayStream(ByteSource* base, bool read_only);

  uint64_t length() const { return length_; }
  Status Read(uint64_t offset, void* buf, size_t len, size_t* got);
  Status Write(uint64_t offset, const void* data, size_t len);
  Status Insert(uint64_t offset, const void* data, size_t len,
                uint64_t replace);
  Status Remove(uint64_t offset, uint64_t len);
  Status Truncate(uint64_t len);

  // The table for a plugin; valid while the overlay lives.
  const nomtag_stream* stream() const { return &table_; }

  const std::vector<Piece>& pieces() const { return pieces_; }
  // Bytes of an added piece. REQUIRES: !piece.from_base.
  const char* added(const Piece& piece) const {
    return added_.data() + piece.added_offset;
  }
  bool edited() const { return edited_; }

  // True when every original byte that survives keeps its offset and the
  // stream did not shrink: the new file can be written over the old one
  // range by range.
  bool PreservesOffsets() const;

  // If the new bytes [offset, offset+len) are one contiguous range of the
  // original, its offset there.
  std::optional<uint64_t> BaseOffsetOf(uint64_t offset, uint64_t len) const;

  // Turns runs of added bytes that equal the original bytes at the same
  // offset (TagLib re-renders whole tag blocks, padding included) back
  // into original pieces, so a commit in place writes and journals only
  // what really changed. The stream's content does not change.
  Status ShareUnchangedBytes();

  // Bytes added by edits that reached the new file (for figures).
  uint64_t AddedBytes() const;

 private:
  // Splits so that a piece starts at offset; returns its index.
  size_t SplitAt(uint64_t offset);

  ByteSource* base_;
  nomtag_stream table_;
  std::vector<Piece> pieces_;
  std::string added_;
  uint64_t length_;
  bool edited_ = false;
};

}  // namespace nomtag

#endif  // NOMTAG_IO_OVERLAY_STREAM_H_
