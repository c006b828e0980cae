// The MP3 format plugin: TXXX frames "nom:<key>" in the ID3v2 tag.
// TagLib reads the file; writes splice our frames into the tag's bytes
// (id3v2_splice.h) and never re-render a foreign frame.
#include <nomtag/format.h>
#include <taglib/id3v2framefactory.h>
#include <taglib/id3v2tag.h>
#include <taglib/mpegfile.h>
#include <taglib/mpegheader.h>
#include <taglib/textidentificationframe.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <nomtag/cpp/stream.hpp>

#include "id3v2_layout.h"
#include "id3v2_splice.h"
#include "id3v2_structure.h"
#include "mp3_trailers.h"
#include "taglib-common/changed_runs.h"
#include "taglib-common/foreign_snapshot.h"
#include "taglib-common/format_table.h"
#include "taglib-common/nom_keys.h"
#include "taglib-common/one_parse.h"
#include "taglib-common/plugin_support.h"
#include "taglib-common/sinks.h"
#include "taglib-common/taglib_stream.h"

namespace nomtag::plugins {
namespace {

using TagLib::ID3v2::UserTextIdentificationFrame;

struct OpenMpeg {
  explicit OpenMpeg(const nomtag_stream* stream)
      : io(stream), file(&io, TagLib::ID3v2::FrameFactory::instance(), false) {
    io.ThrowIfFailed("parsing");
    if (!file.isValid())
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "not a valid MP3 file (TagLib could not parse it)");
    // TagLib 1.13 accepts a file without a single MPEG frame as valid.
    if (file.firstFrameOffset() < 0)
      Fail(NOMTAG_ERR_CORRUPT, stream, "no MPEG audio frame found");
  }
  TaglibStream io;
  TagLib::MPEG::File file;
};

// The TXXX frame as ours: its key, or nothing when it is foreign.
std::optional<NomKey> OurKey(TagLib::ID3v2::Frame* frame) {
  auto* txxx = dynamic_cast<UserTextIdentificationFrame*>(frame);
  if (txxx == nullptr) return std::nullopt;
  return ParseId3Description(ToStd(txxx->description()));
}

bool MpegSyncAt(const std::vector<uint8_t>& b, size_t i) {
  return i + 1 < b.size() && b[i] == 0xFF && (b[i + 1] & 0xE0) == 0xE0;
}

bool LooksLikeMp3(const nomtag_stream* stream) {
  std::vector<uint8_t> h = sdk::StreamRef(stream).read(0, 3);
  if (h.size() == 3 && h[0] == 'I' && h[1] == 'D' && h[2] == '3') return true;
  return MpegSyncAt(h, 0);
}

void Prepare(const nomtag_stream* stream, bool writable) {
  RequireStream(stream, writable);
  RequireNonEmpty(stream, "MP3");
  if (!LooksLikeMp3(stream))
    Fail(NOMTAG_ERR_UNSUPPORTED, stream,
         "not an MP3 file (neither an ID3v2 tag nor an MPEG frame at the "
         "start)");
}

// The foreign items, given the tag's raw structure and the file opened
// by TagLib.
ForeignItems CollectWith(const nomtag_stream* stream, Id3v2Structure& raw,
                         OpenMpeg& open) {
  ForeignItems items;
  // A tag holding only our frames disappears when they are cleared
  // (TagLib strips an empty tag); that is no foreign change.
  if (raw.present && raw.foreign_frames > 0) {
    items.Add("struct:id3v2", raw.description);
    items.Add("struct:id3v2:frames", std::move(raw.foreign_bytes));
  }
  if (TagLib::ID3v2::Tag* tag = open.file.ID3v2Tag(false)) {
    // Sorted by frame id, stable: frame order carries no meaning in ID3v2
    // and TagLib's v2.3 save reorders converted frames.
    std::vector<std::pair<std::string, std::string>> frames;
    for (TagLib::ID3v2::Frame* frame : tag->frameList()) {
      if (OurKey(frame)) continue;
      TagLib::ByteVector bytes = frame->render();
      frames.emplace_back("id3v2:" + std::string(frame->frameID().data(),
                                                 frame->frameID().size()),
                          std::string(bytes.data(), bytes.size()));
    }
    std::stable_sort(
        frames.begin(), frames.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [id, data] : frames) items.Add(id, std::move(data));
  }
  sdk::StreamRef s(stream);
  for (const Mp3Trailer& t : FindMp3Trailers(stream)) {
    std::vector<uint8_t> bytes = s.read(t.offset, t.length);
    items.Add(t.kind, std::string(bytes.begin(), bytes.end()));
  }
  return items;
}

// Our frames, from the file opened by TagLib.
void NamespaceFrom(OpenMpeg& open, TagSink& out) {
  TagLib::ID3v2::Tag* tag = open.file.ID3v2Tag(false);
  if (tag == nullptr) return;
  for (TagLib::ID3v2::Frame* frame : tag->frameList("TXXX")) {
    auto key = OurKey(frame);
    if (!key) continue;
    TagLib::StringList fields =
        static_cast<UserTextIdentificationFrame*>(frame)->fieldList();
    // fieldList() opens with the description.
    for (auto it = std::next(fields.begin()); it != fields.end(); ++it)
      out.Add(key->key, ToStd(*it), key->encoding);
  }
}

// The reads, over one walk of the tag and one TagLib parse.
const OneParse<Id3v2Structure, OpenMpeg> kReads{Prepare, ReadId3v2Structure,
                                                NamespaceFrom, CollectWith};

// Our frame bodies as TagLib renders them, encoded for the tag's version:
// UTF-8 in 2.4, UTF-16 where 2.2 and 2.3 know no UTF-8.
std::vector<std::string> OurFrameBodies(const std::vector<DesiredTag>& desired,
                                        int major) {
  std::vector<std::string> bodies;
  for (const DesiredTag& d : desired) {
    UserTextIdentificationFrame frame(
        Utf8(Id3Description(d.key)), Utf8List(d.values),
        major == 4 ? TagLib::String::UTF8 : TagLib::String::UTF16);
    // render() gives a 2.4 frame: a 10-byte header, then the body.
    TagLib::ByteVector bytes = frame.render();
    bodies.emplace_back(bytes.data() + 10, bytes.size() - 10);
  }
  return bodies;
}

// Tags the splice could write but TagLib 1.13, the reader that verifies
// the write, misreads: the write could not be checked, so it is refused.
// UNFINISHED: reading our frames with our own walker (id3v2_layout.h)
// would let these through, verified by mutagen in the tests.
std::string TagLibMisreads(const Id3v2Layout& layout) {
  if (layout.major == 3 && layout.ext_size > 0)
    return "TagLib 1.13 reads an ID3v2.3 extended header's size as 2.4's "
           "and sees no frame after it, so the write could not be verified";
  if (layout.footer)
    return "TagLib 1.13 reads an ID3v2.4 tag with a footer 10 bytes short, "
           "so the write could not be verified";
  return "";
}

// The ID3v2 version a file without a tag gets (setting `id3v2_version`):
// 2.4 unless the user's players read only 2.3 (older Windows and car
// stereos). Set once by Init, before any other call; read-only after.
int new_tag_major = 4;

nomtag_status Init(const nomtag_host*, const char* settings, size_t len,
                   nomtag_error* err) {
  if (len == 0) return NOMTAG_OK;
  std::string value;
  try {
    YAML::Node node = YAML::Load(std::string(settings, len));
    if (!node["id3v2_version"]) return NOMTAG_OK;
    value = node["id3v2_version"].as<std::string>();
  } catch (const YAML::Exception& e) {
    sdk::set_error(err, std::string("bad settings: ") + e.what());
    return NOMTAG_ERR_SETTINGS;
  }
  if (value == "2.3" || value == "3") {
    new_tag_major = 3;
  } else if (value == "2.4" || value == "4") {
    new_tag_major = 4;
  } else {
    sdk::set_error(err,
                   "id3v2_version takes 2.3 or 2.4 (the version of the tag "
                   "a file without one gets), not '" +
                       value + "'");
    return NOMTAG_ERR_SETTINGS;
  }
  return NOMTAG_OK;
}

// Splices our frames into the tag (id3v2_splice.h): every foreign byte
// stays, in the tag's own version. A file without a tag gets a tag of
// new_tag_major.
void WriteNamespace(const nomtag_stream* stream, const nomtag_tag* tags,
                    size_t tag_count, const nomtag_write_options* opts) {
  std::vector<DesiredTag> desired = DesiredTags(tags, tag_count);
  Prepare(stream, true);
  sdk::StreamRef s(stream);
  const uint64_t old_length = ReadId3v2Structure(stream).length;
  std::vector<uint8_t> old_tag;
  std::optional<Id3v2Layout> layout;
  if (old_length > 0) {
    old_tag = s.read(0, old_length);
    std::string why;
    layout = ParseId3v2Layout(old_tag, &why);
    if (!layout)
      Fail(NOMTAG_ERR_REFUSED, stream,
           "cannot splice into this ID3v2 tag: " + why);
    why = TagLibMisreads(*layout);
    if (!why.empty()) Fail(NOMTAG_ERR_REFUSED, stream, why);
  }
  std::string why;
  std::vector<uint8_t> tag = SpliceId3v2(
      old_tag, layout ? &*layout : nullptr,
      OurFrameBodies(desired, layout ? layout->major : new_tag_major),
      new_tag_major, PaddingOption(opts), &why);
  if (!why.empty()) Fail(NOMTAG_ERR_REFUSED, stream, why);
  if (tag.size() == old_tag.size())
    WriteChangedRuns(stream, 0, old_tag, tag);
  else if (tag.empty())
    s.remove(0, old_length);
  else
    s.insert(0, tag.data(), tag.size(), old_length);
}

void ReadPayload(const nomtag_stream* stream, const nomtag_payload_sink* sink) {
  PayloadSink out(sink);
  Prepare(stream, false);
  std::vector<Mp3Trailer> trailers = FindMp3Trailers(stream);
  const uint64_t audio_end = trailers.empty() ? sdk::StreamRef(stream).length()
                                              : trailers.front().offset;
  const uint64_t tag_end = ReadId3v2Structure(stream).length;
  // Coarsely, everything between the ID3v2 tag and the trailing tags: it
  // holds every frame, and naming it takes no TagLib parse (which scans
  // for the first and the last frame). An in-place write is proven by it.
  if (out.CoarseAllowed() && tag_end <= audio_end) {
    out.Bytes("mp3: the bytes between the tags");
    out.Range(tag_end, audio_end - tag_end);
    out.Flush();
    return;
  }
  OpenMpeg open(stream);
  const long first = open.file.firstFrameOffset();
  const long last = open.file.lastFrameOffset();
  if (last < first)
    Fail(NOMTAG_ERR_CORRUPT, stream, "MPEG frames could not be delimited");
  TagLib::MPEG::Header header(&open.file, last, false);
  uint64_t end = static_cast<uint64_t>(last) +
                 (header.isValid() ? header.frameLength() : 0);
  // A last frame cut short ends with the file (or its trailers).
  if (end > audio_end) end = audio_end;
  out.Range(static_cast<uint64_t>(first), end - static_cast<uint64_t>(first));
  out.Flush();
}

}  // namespace
}  // namespace nomtag::plugins

namespace {

namespace p = nomtag::plugins;

const char* const kExtensions[] = {"mp3", nullptr};
const p::FormatFunctions kFunctions{"mp3",
                                    kExtensions,
                                    p::LooksLikeMp3,
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

const nomtag_setting kSettings[] = {{"id3v2_version", NOMTAG_SETTING_VALUE}};

}  // namespace

NOMTAG_PLUGIN_WITH_SETTINGS(NOMTAG_KIND_FORMAT, "org.nomtag.format.mp3",
                            "MP3 ID3v2 tags (TagLib)", "0.1.0", p::Init,
                            nullptr, GetInterface, kSettings, 1)
