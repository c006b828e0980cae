// The FLAC format plugin: a Vorbis comment block among the metadata blocks.
// TagLib reads the file; writes splice our fields into the block's bytes
// (flac_splice.h) and never re-render a foreign field or block.
#include <nomtag/format.h>
#include <taglib/flacfile.h>
#include <taglib/id3v2framefactory.h>

#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <nomtag/cpp/stream.hpp>

#include "flac_blocks.h"
#include "flac_splice.h"
#include "taglib-common/foreign_snapshot.h"
#include "taglib-common/format_table.h"
#include "taglib-common/one_parse.h"
#include "taglib-common/plugin_support.h"
#include "taglib-common/sinks.h"
#include "taglib-common/taglib_stream.h"
#include "taglib-common/xiph_namespace.h"

namespace nomtag::plugins {
namespace {

constexpr int kPadding = 1;
constexpr int kVorbisComment = 4;
constexpr const char* kEmptyCommentStructure = "0 fields:";

struct OpenFlac {
  explicit OpenFlac(const nomtag_stream* stream)
      : io(stream), file(&io, TagLib::ID3v2::FrameFactory::instance(), false) {
    io.ThrowIfFailed("parsing");
    if (!file.isValid())
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "not a valid FLAC file (TagLib could not parse it)");
  }
  TaglibStream io;
  TagLib::FLAC::File file;
};

void Prepare(const nomtag_stream* stream, bool writable) {
  RequireStream(stream, writable);
  RequireNonEmpty(stream, "FLAC");
  if (!LooksLikeFlac(stream))
    Fail(NOMTAG_ERR_UNSUPPORTED, stream, "not a FLAC file (wrong magic)");
}

// The foreign items, given the block layout and the file opened by
// TagLib.
ForeignItems CollectWith(const nomtag_stream* stream, FlacLayout& layout,
                         OpenFlac& open) {
  ForeignItems items;
  sdk::StreamRef s(stream);
  if (layout.id3v2_length > 0) {
    std::vector<uint8_t> raw = s.read(0, layout.id3v2_length);
    items.Add("flac:id3v2", std::string(raw.begin(), raw.end()));
  }
  // Blocks in file order, by position among the kept ones: padding and
  // the comment may legitimately come, go or move (TagLib puts a new
  // comment after the pictures).
  int n = 0;
  const FlacBlock* comment = nullptr;
  for (const FlacBlock& b : layout.blocks) {
    if (b.type == kPadding) continue;
    if (b.type == kVorbisComment) {
      comment = &b;
      continue;
    }
    items.Add(
        "flac:block#" + std::to_string(n++) + ":type" + std::to_string(b.type),
        b.body);
  }
  // A file without a comment block gets one on the first write; that
  // reads as an empty comment, with nothing foreign in it.
  if (comment != nullptr) {
    CollectRawCommentStructure(
        TagLib::ByteVector(comment->body.data(),
                           static_cast<unsigned>(comment->body.size())),
        items);
    // The splice keeps the vendor and the foreign fields byte for byte,
    // in order: compare them so. (An empty vendor and no foreign field
    // is what a first write creates.)
    std::string raw = ForeignCommentBytes(comment->body);
    if (!raw.empty()) items.Add("struct:flac:comment-bytes", std::move(raw));
  } else
    items.Add("struct:vorbis-comment", kEmptyCommentStructure);
  if (layout.has_id3v1) {
    std::vector<uint8_t> raw = s.read(s.length() - 128, 128);
    items.Add("flac:id3v1", std::string(raw.begin(), raw.end()));
  }
  if (open.file.hasXiphComment())
    CollectXiphForeign(*open.file.xiphComment(false), items);
  return items;
}

void NamespaceFrom(OpenFlac& open, TagSink& out) {
  if (open.file.hasXiphComment())
    ReadXiphNamespace(*open.file.xiphComment(false), out);
}

// The reads, over one walk of the blocks and one TagLib parse.
const OneParse<FlacLayout, OpenFlac> kReads{Prepare, ReadFlacLayout,
                                            NamespaceFrom, CollectWith};

// Splices our fields into the comment block (flac_splice.h): every
// foreign byte stays.
void WriteNamespace(const nomtag_stream* stream, const nomtag_tag* tags,
                    size_t tag_count, const nomtag_write_options* opts) {
  std::vector<DesiredTag> desired = DesiredTags(tags, tag_count);
  Prepare(stream, true);
  SpliceFlacComment(stream, ReadFlacLayout(stream), desired,
                    PaddingOption(opts));
}

void ReadPayload(const nomtag_stream* stream, const nomtag_payload_sink* sink) {
  PayloadSink out(sink);
  Prepare(stream, false);
  FlacLayout layout = ReadFlacLayout(stream);
  out.Range(layout.frames_offset, layout.frames_end - layout.frames_offset);
  out.Flush();
}

}  // namespace
}  // namespace nomtag::plugins

namespace {

namespace p = nomtag::plugins;

const char* const kExtensions[] = {"flac", nullptr};
const p::FormatFunctions kFunctions{"flac",
                                    kExtensions,
                                    p::LooksLikeFlac,
                                    p::Prepare,
                                    p::ReadNamespaceOf<p::kReads>,
                                    p::CollectOf<p::kReads>,
                                    p::WriteNamespace,
                                    p::ReadPayload,
                                    p::ReadTagsOf<p::kReads>};

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID)
             ? p::FormatTable<kFunctions>()
             : nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.flac",
              "FLAC tags (TagLib)", "0.1.0", nullptr, nullptr, GetInterface)
