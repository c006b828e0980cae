#include "flac_splice.h"

#include <nomtag/cpp/stream.hpp>
#include <string>

#include "taglib-common/changed_runs.h"
#include "taglib-common/xiph_namespace.h"

namespace nomtag::plugins {
namespace {

constexpr int kPadding = 1;
constexpr int kVorbisComment = 4;
constexpr uint64_t kMaxBlock = (1u << 24) - 1;

void AddBlock(std::vector<uint8_t>& out, int type, const std::string& body) {
  out.push_back(static_cast<uint8_t>(type));  // last-block flag set below
  out.push_back(uint8_t(body.size() >> 16));
  out.push_back(uint8_t(body.size() >> 8));
  out.push_back(uint8_t(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

void SpliceFlacComment(const nomtag_stream* stream, const FlacLayout& layout,
                       const std::vector<DesiredTag>& desired,
                       uint32_t padding) {
  if (layout.blocks.empty())
    Fail(NOMTAG_ERR_CORRUPT, stream, "FLAC file without metadata blocks");
  const FlacBlock* comment = nullptr;
  for (const FlacBlock& b : layout.blocks) {
    if (b.type != kVorbisComment) continue;
    if (comment != nullptr)
      Fail(NOMTAG_ERR_REFUSED, stream,
           "the FLAC file has two comment blocks; readers disagree on which "
           "counts, so nomtag does not write it");
    comment = &b;
  }
  if (comment == nullptr && desired.empty()) return;  // nothing to do
  std::optional<std::string> spliced = SpliceXiphComment(
      comment != nullptr ? std::string_view(comment->body) : std::string_view(),
      desired);
  if (!spliced || (comment != nullptr && comment->body.empty()))
    Fail(NOMTAG_ERR_REFUSED, stream,
         "the FLAC comment block is malformed; nomtag does not splice into "
         "it");
  const std::string& body = *spliced;
  if (body.size() > kMaxBlock)
    Fail(NOMTAG_ERR_REFUSED, stream,
         "the FLAC comment block would exceed 16 MiB");

  // Every block in order, the comment replaced (or added after
  // STREAMINFO), PADDING left out; then one PADDING block at the end
  // holding all the room (none when the blocks fill the old length).
  const uint64_t start = layout.blocks.front().offset;
  const uint64_t old_len = layout.frames_offset - start;
  std::vector<uint8_t> meta;
  for (const FlacBlock& b : layout.blocks) {
    if (b.type == kPadding) continue;
    AddBlock(meta, b.type, &b == comment ? body : b.body);
    if (comment == nullptr && &b == &layout.blocks.front())
      AddBlock(meta, kVorbisComment, body);
  }
  if (meta.size() != old_len) {
    uint64_t pad;
    if (meta.size() + 4 <= old_len) {
      pad = old_len - meta.size() - 4;  // the audio stays where it is
    } else {
      pad = padding ? padding : kDefaultFlacPadding;
    }
    if (pad > kMaxBlock) pad = kMaxBlock;
    AddBlock(meta, kPadding, std::string(pad, '\0'));
  }
  // The last-block flag: on the last header only. Walk the headers again.
  size_t at = 0, last = 0;
  while (at < meta.size()) {
    last = at;
    meta[at] &= 0x7f;
    at += 4 + ((size_t(meta[at + 1]) << 16) | (size_t(meta[at + 2]) << 8) |
               meta[at + 3]);
  }
  meta[last] |= 0x80;

  sdk::StreamRef s(stream);
  if (meta.size() == old_len) {
    WriteChangedRuns(stream, start, s.read(start, old_len), meta);
  } else {
    s.insert(start, meta.data(), meta.size(), old_len);
  }
}

}  // namespace nomtag::plugins
