// The FLAC format plugin: the `nom` namespace in the VORBIS_COMMENT block.
#include <nomtag/format.h>
#include <taglib/flacfile.h>
#include <taglib/id3v2framefactory.h>

#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <nomtag/cpp/stream.hpp>

#include "flac_blocks.h"
#include "sinks.h"
#include "stream_io.h"
#include "xiph_comment.h"

namespace nomtag::flac {
namespace {

using taglib::StreamIO;

// Opens the stream with TagLib; throws when TagLib cannot parse it.
struct OpenFlac {
  explicit OpenFlac(const nomtag_stream* s)
      : io(s),
        file(&io, TagLib::ID3v2::FrameFactory::instance(),
             /*readProperties=*/false) {
    io.ThrowIfFailed();
    if (!file.isValid())
      throw sdk::Error(NOMTAG_ERR_CORRUPT, std::string(io.name()) +
                                               ": TagLib cannot read this "
                                               "FLAC file");
  }
  StreamIO io;
  TagLib::FLAC::File file;
};

nomtag_status Probe(const nomtag_stream* s, int32_t* out, nomtag_error* err) {
  return sdk::guard(err, [&] { *out = LooksLikeFlac(sdk::StreamRef(s)); });
}

nomtag_status ReadNamespace(const nomtag_stream* s, const nomtag_tag_sink* sink,
                            nomtag_error* err) {
  return sdk::guard(err, [&] {
    ReadFlacLayout(sdk::StreamRef(s));  // refuses what is not FLAC
    OpenFlac f(s);
    taglib::ReadXiphNamespace(f.file.xiphComment(false), taglib::TagSink(sink));
  });
}

nomtag_status ReadForeign(const nomtag_stream* s,
                          const nomtag_snapshot_sink* sink, nomtag_error* err) {
  return sdk::guard(err, [&] {
    sdk::StreamRef stream(s);
    taglib::SnapshotSink out(sink);
    FlacLayout layout = ReadFlacLayout(stream);
    auto bytes = [&](uint64_t offset, uint64_t len) {
      std::vector<uint8_t> v = stream.read(offset, len);
      return std::string(v.begin(), v.end());
    };
    if (layout.prefix_length > 0)
      out.Item("flac:id3v2-prefix", bytes(0, layout.prefix_length));
    for (const MetadataBlock& b : layout.blocks) {
      if (b.type == kPadding) continue;
      std::string body = bytes(b.offset, b.length);
      if (b.type == kVorbisComment) {
        taglib::SnapshotVorbisComment(body, out);
      } else {
        out.Item("flac:block-" + std::to_string(b.type), body);
      }
    }
    if (layout.has_id3v1) out.Item("flac:id3v1", bytes(layout.audio_end, 128));
  });
}

nomtag_status WriteNamespace(const nomtag_stream* s, const nomtag_tag* tags,
                             size_t count, const nomtag_write_options*,
                             nomtag_error* err) {
  return sdk::guard(err, [&] {
    ReadFlacLayout(sdk::StreamRef(s));
    OpenFlac f(s);
    taglib::WriteXiphNamespace(f.file.xiphComment(true), tags, count);
    // TagLib keeps the PADDING block when the comment fits in it and
    // chooses its size otherwise; opts->padding is not applied yet.
    bool saved = f.file.save();
    f.io.ThrowIfFailed();
    if (!saved)
      throw sdk::Error(NOMTAG_ERR_INTERNAL, std::string(f.io.name()) +
                                                ": TagLib could not save "
                                                "the FLAC metadata");
  });
}

nomtag_status ReadPayload(const nomtag_stream* s,
                          const nomtag_payload_sink* sink, nomtag_error* err) {
  return sdk::guard(err, [&] {
    FlacLayout layout = ReadFlacLayout(sdk::StreamRef(s));
    taglib::PayloadSink(sink).Range(layout.audio_start,
                                    layout.audio_end - layout.audio_start);
  });
}

const char* const kExtensions[] = {"flac", nullptr};
const nomtag_format kFormat = {
    sizeof(nomtag_format), "flac",      kExtensions,    Probe,
    ReadNamespace,         ReadForeign, WriteNamespace, ReadPayload,
};

const void* GetInterface(const char* id) {
  return sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID) ? &kFormat : nullptr;
}

}  // namespace
}  // namespace nomtag::flac

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.flac", "FLAC (TagLib)",
              "0.1.0", nullptr, nullptr, nomtag::flac::GetInterface)
