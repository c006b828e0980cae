#include "ogg_comment_packet.h"

#include <algorithm>
#include <optional>

namespace nomtag::plugins {
namespace {

uint32_t Le32(std::string_view d, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(d[at + i]); };
  return b(0) | (b(1) << 8) | (b(2) << 16) | (uint32_t(b(3)) << 24);
}

// Offset just past the comment in `body` (the packet after its magic).
std::optional<size_t> CommentEnd(std::string_view body, bool framing) {
  size_t at = 0;
  // 64-bit sums: a length near 4 GiB must not wrap past the check.
  auto fits = [&](uint64_t n) { return uint64_t{at} + n <= body.size(); };
  if (!fits(4) || !fits(4 + uint64_t{Le32(body, 0)})) return std::nullopt;
  at = 4 + Le32(body, 0);
  if (!fits(4)) return std::nullopt;
  const uint32_t count = Le32(body, at);
  at += 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (!fits(4) || !fits(4 + uint64_t{Le32(body, at)})) return std::nullopt;
    at += 4 + Le32(body, at);
  }
  if (framing && at < body.size()) ++at;
  return at;
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
