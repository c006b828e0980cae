#include "ogg_xiph_format.h"

#include <taglib/oggfile.h>

#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/stream.hpp>

#include "foreign_snapshot.h"
#include "ogg_comment_packet.h"
#include "ogg_packets.h"
#include "ogg_payload.h"
#include "plugin_support.h"
#include "sinks.h"
#include "taglib_stream.h"
#include "xiph_namespace.h"

namespace nomtag::plugins {
namespace {

// Opens the file and fails loudly when TagLib cannot parse it: an invalid
// file is never "a file without tags".
struct OpenFile {
  OpenFile(const OggFlavor& f, const nomtag_stream* stream)
      : io(stream), file(f.open(&io)) {
    io.ThrowIfFailed("parsing");
    if (!file || !file->isValid())
      Fail(NOMTAG_ERR_CORRUPT, stream,
           std::string("not a valid ") + f.display_name +
               " file (TagLib could not parse it)");
    comment = f.comment(file.get());
    if (comment == nullptr)
      Fail(NOMTAG_ERR_CORRUPT, stream,
           std::string(f.display_name) + " file without a comment header");
  }
  TaglibStream io;
  std::unique_ptr<TagLib::File> file;
  TagLib::Ogg::XiphComment* comment = nullptr;
};

bool Matches(const OggFlavor& f, const nomtag_stream* stream) {
  // The identification header is alone on the first page: 27-byte page
  // header, a one-entry segment table, then the packet.
  std::vector<uint8_t> h =
      sdk::StreamRef(stream).read(0, 28 + f.first_packet.size());
  return h.size() == 28 + f.first_packet.size() && h[0] == 'O' && h[1] == 'g' &&
         h[2] == 'g' && h[3] == 'S' &&
         std::string_view(reinterpret_cast<const char*>(h.data()) + 28,
                          f.first_packet.size()) == f.first_packet;
}

void Prepare(const OggFlavor& f, const nomtag_stream* stream, bool writable) {
  RequireStream(stream, writable);
  RequireNonEmpty(stream, f.display_name);
  if (!Matches(f, stream))
    Fail(NOMTAG_ERR_UNSUPPORTED, stream,
         std::string("not an ") + f.display_name + " stream (wrong magic)");
  // Every logical stream of a multiplexed file starts on its own page at
  // the start (RFC 3533, 4), so a second page that starts a stream means
  // several. TagLib 1.13 cannot parse those (it reads their pages as one
  // stream); say so rather than call the file corrupt.
  int pages = 0;
  bool multiplexed = false;
  OggPacketReader(stream).WalkPages([&](const OggPageInfo& page) {
    if (++pages == 2) multiplexed = (page.header_type & 0x02) != 0;
    return pages < 2;
  });
  if (multiplexed)
    Fail(NOMTAG_ERR_UNSUPPORTED, stream,
         "multiplexed Ogg (several logical streams, such as audio with video "
         "or two audio tracks): nomtag reads and writes only single-stream "
         "Ogg files");
}

std::string CommentPacket(const OggFlavor& f, const nomtag_stream* stream) {
  std::string packet = OggPacketReader(stream).Packet(1);
  if (packet.compare(0, f.comment_magic.size(), f.comment_magic) != 0)
    Fail(NOMTAG_ERR_CORRUPT, stream,
         "second Ogg packet is not a comment header");
  return packet;
}

// The foreign items, given the stream's comment packet (CommentPacket)
// and the stream opened by TagLib.
ForeignItems CollectWith(const OggFlavor& f, const std::string& packet,
                         OpenFile& open) {
  ForeignItems items;
  CollectXiphForeign(*open.comment, items);
  const std::string_view body =
      std::string_view(packet).substr(f.comment_magic.size());
  CollectRawCommentStructure(
      TagLib::ByteVector(body.data(), static_cast<unsigned>(body.size())),
      items);
  // The splice keeps the vendor and the foreign fields byte for byte, in
  // order: compare them so (what follows the fields is the suffix, below).
  const RawComment raw = WalkRawComment(body);
  items.Add("struct:comment-bytes",
            ForeignCommentBytes(raw.shape == RawComment::Shape::kWhole
                                    ? body.substr(0, raw.end)
                                    : body));
  // Data after the comment that is not padding belongs to somebody else.
  std::string_view suffix =
      CommentSuffix(packet, f.comment_magic, f.framing_bit);
  if (!IsPadding(suffix))
    items.Add("struct:comment-suffix", std::string(suffix));
  return items;
}

ForeignItems Collect(const OggFlavor& f, const nomtag_stream* stream) {
  const std::string packet = CommentPacket(f, stream);
  OpenFile open(f, stream);
  return CollectWith(f, packet, open);
}

// ReadNamespace and Collect with one TagLib parse.
ForeignItems ReadTags(const OggFlavor& f, const nomtag_stream* stream,
                      const nomtag_tag_sink* sink) {
  TagSink out(sink);
  Prepare(f, stream, false);
  const std::string packet = CommentPacket(f, stream);
  OpenFile open(f, stream);
  ReadXiphNamespace(*open.comment, out);
  return CollectWith(f, packet, open);
}

void ReadNamespace(const OggFlavor& f, const nomtag_stream* stream,
                   const nomtag_tag_sink* sink) {
  TagSink out(sink);
  Prepare(f, stream, false);
  OpenFile open(f, stream);
  ReadXiphNamespace(*open.comment, out);
}

void WriteNamespace(const OggFlavor& f, const nomtag_stream* stream,
                    const nomtag_tag* tags, size_t tag_count,
                    const nomtag_write_options* opts) {
  std::vector<DesiredTag> desired = DesiredTags(tags, tag_count);
  Prepare(f, stream, true);
  const std::string old_packet = CommentPacket(f, stream);
  const uint32_t padding = PaddingOption(opts);
  {
    OpenFile open(f, stream);
    // Our fields are spliced into the comment's own bytes (the vendor and
    // every foreign field kept as they are, in order), then the packet is
    // built with its padding (ogg_comment_packet.h) and saved through the
    // Ogg base, which repaginates only the pages that held it.
    const std::string_view old_comment =
        std::string_view(old_packet).substr(f.comment_magic.size());
    const RawComment raw = WalkRawComment(old_comment);
    std::optional<std::string> comment =
        raw.shape == RawComment::Shape::kWhole
            ? SpliceXiphComment(old_comment.substr(0, raw.end), desired)
            : std::nullopt;
    if (!comment)
      Fail(NOMTAG_ERR_REFUSED, stream,
           std::string("the ") + f.display_name +
               " comment header is malformed; nomtag does not splice into it");
    if (f.framing_bit) *comment += '\x01';
    const std::string packet = BuildCommentPacket(
        f.comment_magic, *comment, old_packet, f.framing_bit, padding);
    auto* ogg = static_cast<TagLib::Ogg::File*>(open.file.get());
    ogg->setPacket(1, TagLib::ByteVector(packet.data(),
                                         static_cast<unsigned>(packet.size())));
    bool saved = ogg->TagLib::Ogg::File::save();
    open.io.ThrowIfFailed("saving");
    if (!saved) Fail(NOMTAG_ERR_IO, stream, "TagLib could not save the file");
  }
}

void ReadPayload(const OggFlavor& f, const nomtag_stream* stream,
                 const nomtag_payload_sink* sink) {
  PayloadSink out(sink);
  Prepare(f, stream, false);
  SendOggAudioPayload(stream, f.header_packets, out);
}

}  // namespace

bool OggMatches(const OggFlavor& f, const nomtag_stream* s) {
  return Matches(f, s);
}
void OggPrepare(const OggFlavor& f, const nomtag_stream* s, bool writable) {
  Prepare(f, s, writable);
}
void OggReadNamespace(const OggFlavor& f, const nomtag_stream* s,
                      const nomtag_tag_sink* k) {
  ReadNamespace(f, s, k);
}
ForeignItems OggCollect(const OggFlavor& f, const nomtag_stream* s) {
  return Collect(f, s);
}
ForeignItems OggReadTags(const OggFlavor& f, const nomtag_stream* s,
                         const nomtag_tag_sink* k) {
  return ReadTags(f, s, k);
}
void OggWriteNamespace(const OggFlavor& f, const nomtag_stream* s,
                       const nomtag_tag* t, size_t n,
                       const nomtag_write_options* o) {
  WriteNamespace(f, s, t, n, o);
}
void OggReadPayload(const OggFlavor& f, const nomtag_stream* s,
                    const nomtag_payload_sink* k) {
  ReadPayload(f, s, k);
}

}  // namespace nomtag::plugins
