// The MP4 format plugin (mp4, m4a, m4b): freeform items
// "----:com.apple.iTunes:nom.<key>" in moov/udta/meta/ilst. TagLib reads
// the file; writes splice our items into the atoms (mp4_splice.h) and
// never re-render a foreign item.
#include <nomtag/format.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>

#include <algorithm>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <nomtag/cpp/stream.hpp>

#include "mp4_atoms.h"
#include "mp4_splice.h"
#include "taglib-common/foreign_snapshot.h"
#include "taglib-common/format_table.h"
#include "taglib-common/nom_keys.h"
#include "taglib-common/one_parse.h"
#include "taglib-common/plugin_support.h"
#include "taglib-common/sinks.h"
#include "taglib-common/taglib_stream.h"

namespace nomtag::plugins {
namespace {

struct OpenMp4 {
  explicit OpenMp4(const nomtag_stream* stream) : io(stream), file(&io, false) {
    io.ThrowIfFailed("parsing");
    if (!file.isValid())
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "not a valid MP4 file (TagLib could not parse it)");
  }
  TaglibStream io;
  TagLib::MP4::File file;
};

// An MP4 opens with ftyp; old QuickTime-style files (no ftyp) open with
// moov, mdat or a free/skip/wide atom, which TagLib reads as well.
bool LooksLikeMp4(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  std::vector<uint8_t> h = s.read(0, 8);
  if (h.size() < 8) return false;
  const std::string name(h.begin() + 4, h.end());
  if (name == "ftyp") return true;
  if (name != "moov" && name != "mdat" && name != "free" && name != "skip" &&
      name != "wide")
    return false;
  const uint64_t size =
      (uint64_t(h[0]) << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
  return size == 1 || (size >= 8 && size <= s.length());
}

void Prepare(const nomtag_stream* stream, bool writable) {
  RequireStream(stream, writable);
  RequireNonEmpty(stream, "MP4");
  if (!LooksLikeMp4(stream))
    Fail(NOMTAG_ERR_UNSUPPORTED, stream,
         "not an MP4 file (no ftyp, moov or mdat atom at the start)");
}

// The texts of an item of ours: UTF-8 values, or binary ones as bytes.
std::vector<std::string> Values(const TagLib::MP4::Item& item) {
  std::vector<std::string> out;
  for (const auto& s : item.toStringList()) out.push_back(ToStd(s));
  if (out.empty())
    for (const auto& b : item.toByteVectorList())
      out.emplace_back(b.data(), b.size());
  return out;
}

// What an item holds. TagLib 1.13's Item has no kind accessor and leaves
// the scalar slots of text, binary and cover items uninitialised, so the
// scalar is read only for the names TagLib parses as scalars. The raw ilst
// bytes (CollectStructure) are compared as well.
std::string Serialize(const std::string& name, const TagLib::MP4::Item& item) {
  std::string out = "type=" + std::to_string(item.atomDataType());
  for (const auto& s : item.toStringList()) out += "\ns:" + ToStd(s);
  for (const auto& b : item.toByteVectorList())
    out += "\nb:" + std::string(b.data(), b.size());
  for (const auto& c : item.toCoverArtList())
    out += "\nc" + std::to_string(c.format()) + ":" +
           std::string(c.data().data(), c.data().size());
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (name == n) return true;
    return false;
  };
  if (is({"trkn", "disk"})) {
    auto pair = item.toIntPair();
    out += "\npair:" + std::to_string(pair.first) + "/" +
           std::to_string(pair.second);
  } else if (is({"cpil", "pgap", "pcst", "hdvd", "shwm"})) {
    out += "\nbool:" + std::to_string(item.toBool());
  } else if (is({"tmpo", "\xa9mvi", "\xa9mvc"})) {
    out += "\nint:" + std::to_string(item.toInt());
  } else if (is({"rtng", "stik", "akID"})) {
    out += "\nbyte:" + std::to_string(item.toByte());
  } else if (is({"tvsn", "tves", "cnID", "sfID", "atID", "geID", "cmID"})) {
    out += "\nuint:" + std::to_string(item.toUInt());
  } else if (is({"plID"})) {
    out += "\nlong:" + std::to_string(item.toLongLong());
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The raw atom tree without ours and without what a save legitimately
// changes (free/skip atoms, sizes and offsets of containers and tables),
// plus the raw bytes of each foreign ilst item and of the other user data
// (udta children, meta children but ilst and hdlr). ilst items are listed
// sorted by name: their order carries no meaning and TagLib renders them in its
// map order.
void CollectStructure(const nomtag_stream* stream,
                      const std::vector<Mp4Atom>& atoms, ForeignItems& items) {
  sdk::StreamRef s(stream);
  std::string tree;
  std::vector<std::pair<std::string, std::string>> ilst;
  uint64_t skip_until = 0;
  for (size_t i = 0; i < atoms.size(); ++i) {
    const Mp4Atom& a = atoms[i];
    if (a.offset < skip_until) continue;
    if (EndsWith(a.path, "free") || EndsWith(a.path, "skip")) continue;
    const bool ilst_item =
        a.path.size() > 5 &&
        EndsWith(a.path.substr(0, a.path.rfind('/')), "ilst");
    if (ilst_item) {
      const std::string name = Mp4ItemName(stream, atoms, i);
      skip_until = a.offset + a.size;
      if (ParseMp4Name(name)) continue;
      std::vector<uint8_t> raw = s.read(a.offset, a.size);
      ilst.emplace_back("struct:mp4:ilst:" + name,
                        std::string(raw.begin(), raw.end()));
      continue;
    }
    // The containers a first write may create are no foreign change;
    // their other children are compared below.
    if (a.path != "moov/udta" && a.path != "moov/udta/meta" &&
        a.path != "moov/udta/meta/hdlr" && a.path != "moov/udta/meta/ilst")
      tree += a.path + "\n";
    // Other user data (chapters, QuickTime text atoms, keys) is left
    // alone by TagLib: it must stay byte for byte.
    const std::string parent = a.path.substr(0, a.path.rfind('/') + 1);
    const std::string leaf = a.path.substr(parent.size());
    if ((parent == "moov/udta/" && leaf != "meta") ||
        (EndsWith(parent, "meta/") && leaf != "ilst" && leaf != "hdlr")) {
      std::vector<uint8_t> raw = s.read(a.offset, a.size);
      items.Add("struct:mp4:" + a.path, std::string(raw.begin(), raw.end()));
    }
  }
  items.Add("struct:mp4:atoms", tree);
  std::stable_sort(ilst.begin(), ilst.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  for (auto& [id, data] : ilst) items.Add(id, std::move(data));
}

// The foreign items, given the atom tree and the file opened by TagLib.
ForeignItems CollectWith(const nomtag_stream* stream,
                         std::vector<Mp4Atom>& atoms, OpenMp4& open) {
  ForeignItems items;
  CollectStructure(stream, atoms, items);
  if (TagLib::MP4::Tag* tag = open.file.tag())
    for (const auto& [name, item] : tag->itemMap())
      if (!ParseMp4Name(ToStd(name)))
        items.Add("mp4:" + ToStd(name), Serialize(name.to8Bit(false), item));
  return items;
}

void NamespaceFrom(OpenMp4& open, TagSink& out) {
  TagLib::MP4::Tag* tag = open.file.tag();
  if (tag == nullptr) return;
  for (const auto& [name, item] : tag->itemMap()) {
    auto key = ParseMp4Name(ToStd(name));
    if (!key) continue;
    for (const auto& v : Values(item)) out.Add(key->key, v, key->encoding);
  }
}

// The reads, over one walk of the atoms and one TagLib parse.
const OneParse<std::vector<Mp4Atom>, OpenMp4> kReads{
    Prepare, ReadMp4Atoms, NamespaceFrom, CollectWith};

// Splices our items into ilst (mp4_splice.h): every foreign atom keeps
// its bytes; what is missing (udta, meta, ilst) is created.
void WriteNamespace(const nomtag_stream* stream, const nomtag_tag* tags,
                    size_t tag_count, const nomtag_write_options* opts) {
  std::vector<DesiredTag> desired = DesiredTags(tags, tag_count);
  Prepare(stream, true);
  const std::vector<Mp4Atom> atoms = ReadMp4Atoms(stream);
  std::vector<bool> ours(atoms.size(), false);
  for (size_t i = 0; i < atoms.size(); ++i) {
    const std::string& p = atoms[i].path;
    const size_t slash = p.rfind('/');
    if (slash != std::string::npos &&
        p.compare(0, slash, "moov/udta/meta/ilst") == 0 && slash == 19)
      ours[i] = ParseMp4Name(Mp4ItemName(stream, atoms, i)).has_value();
  }
  std::vector<Mp4Freeform> items;
  for (const DesiredTag& d : desired) {
    // Mp4Name gives "----:<mean>:<name>".
    const std::string full = Mp4Name(d.key);
    const size_t colon = full.find(':', 5);
    items.push_back(
        {full.substr(5, colon - 5), full.substr(colon + 1), d.values});
  }
  SpliceMp4(stream, atoms, ours, items, PaddingOption(opts));
}

void ReadPayload(const nomtag_stream* stream, const nomtag_payload_sink* sink) {
  PayloadSink out(sink);
  Prepare(stream, false);
  std::vector<Mp4Atom> atoms = ReadMp4Atoms(stream);
  std::vector<Mp4SampleRange> ranges = ReadMp4SampleRanges(stream, atoms);
  if (ranges.empty())
    Fail(NOMTAG_ERR_CORRUPT, stream, "MP4 file without audio samples");
  for (const Mp4SampleRange& r : ranges) out.Range(r.offset, r.length);
  out.Flush();
}

}  // namespace
}  // namespace nomtag::plugins

namespace {

namespace p = nomtag::plugins;

const char* const kExtensions[] = {"mp4", "m4a", "m4b", nullptr};
const p::FormatFunctions kFunctions{"mp4",
                                    kExtensions,
                                    p::LooksLikeMp4,
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

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.mp4", "MP4 tags (TagLib)",
              "0.1.0", nullptr, nullptr, GetInterface)
