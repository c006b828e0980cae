#include "ogg_comment_packet.h"

#include <algorithm>
#include <optional>

#include "xiph_namespace.h"

namespace nomtag::plugins {
namespace {

// Offset just past the comment in `body` (the packet after its magic).
std::optional<size_t> CommentEnd(std::string_view body, bool framing) {
  const RawComment c = WalkRawComment(body);
  if (c.shape != RawComment::Shape::kWhole) return std::nullopt;
  return framing && c.end < body.size() ? c.end + 1 : c.end;
}

}  // namespace

std::string_view CommentSuffix(std::string_view packet, std::string_view magic,
                               bool framing) {
  if (packet.substr(0, magic.size()) != magic) return {};
  std::string_view body = packet.substr(magic.size());
  std::optional<size_t> end = CommentEnd(body, framing);
  if (!end) return {};
  return body.substr(*end);
}

bool IsPadding(std::string_view suffix) {
  return std::all_of(suffix.begin(), suffix.end(),
                     [](char c) { return c == '\0'; });
}

std::string BuildCommentPacket(std::string_view magic,
                               std::string_view rendered_comment,
                               std::string_view old_packet, bool framing,
                               uint32_t padding) {
  std::string packet;
  packet.reserve(old_packet.size() + padding);
  packet.append(magic).append(rendered_comment);
  std::string_view suffix = CommentSuffix(old_packet, magic, framing);
  if (!IsPadding(suffix)) return packet.append(suffix);
  if (packet.size() <= old_packet.size()) {
    // Only our fields changed size, so what is left over is bounded by
    // what we wrote before: keep it, and with it the page layout.
    packet.resize(old_packet.size(), '\0');
  } else {
    packet.resize(packet.size() + (padding ? padding : kDefaultOggPadding),
                  '\0');
  }
  return packet;
}

}  // namespace nomtag::plugins
