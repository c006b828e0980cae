#include "raw_view.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace nomtag::fuzz {
namespace {

uint32_t Be32(const std::string& b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) |
         (uint32_t(uint8_t(b[at + 1])) << 16) |
         (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

uint32_t Le32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | (uint32_t(uint8_t(b[at + 1])) << 8) |
         (uint32_t(uint8_t(b[at + 2])) << 16) |
         (uint32_t(uint8_t(b[at + 3])) << 24);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(uint8_t(c)));
  return s;
}

// Length of a plainly well-formed ID3v2 tag at the start: 0 when there is
// none, nullopt when "ID3" starts a header the walk does not trust.
std::optional<size_t> Id3v2Length(const std::string& b) {
  if (b.size() < 3 || b.compare(0, 3, "ID3") != 0) return 0;
  if (b.size() < 10) return std::nullopt;
  const uint8_t version = uint8_t(b[3]), revision = uint8_t(b[4]);
  if (version < 2 || version > 4 || revision == 0xFF) return std::nullopt;
  size_t size = 0;
  for (int i = 6; i < 10; ++i) {
    if (uint8_t(b[i]) & 0x80) return std::nullopt;
    size = (size << 7) | uint8_t(b[i]);
  }
  size_t end = 10 + size + ((uint8_t(b[5]) & 0x10) ? 10 : 0);
  if (end > b.size()) return std::nullopt;
  return end;
}

bool OursVorbis(const std::string& field) {
  std::string low = Lower(field.substr(0, 4));
  return low == "nom:" || low == "nom_";
}

// --- FLAC ------------------------------------------------------------------

struct FlacBlock {
  int type;
  std::string body;
};

struct FlacLayout {
  std::string before;  // an ID3v2 tag ahead of "fLaC"
  std::vector<FlacBlock> blocks;
  std::string after;  // the frames, and whatever follows them
};

std::optional<FlacLayout> WalkFlac(const std::string& b) {
  auto id3 = Id3v2Length(b);
  if (!id3) return std::nullopt;
  size_t at = *id3;
  if (b.size() < at + 4 || b.compare(at, 4, "fLaC") != 0) return std::nullopt;
  FlacLayout out;
  out.before = b.substr(0, at);
  at += 4;
  for (;;) {
    if (at + 4 > b.size()) return std::nullopt;
    const uint8_t head = uint8_t(b[at]);
    const size_t size = Be32(b, at) & 0xFFFFFF;
    if (at + 4 + size > b.size()) return std::nullopt;
    out.blocks.push_back({head & 0x7F, b.substr(at + 4, size)});
    at += 4 + size;
    if (head & 0x80) break;
  }
  out.after = b.substr(at);
  return out;
}

// The vendor and fields of a Vorbis comment (no framing bit: FLAC's);
// nullopt unless the body is exactly that.
std::optional<std::vector<std::string>> VorbisComment(const std::string& c) {
  std::vector<std::string> out;
  size_t at = 0;
  auto take = [&]() -> bool {
    if (at + 4 > c.size()) return false;
    const size_t n = Le32(c, at);
    if (n > c.size() - at - 4) return false;
    out.push_back(c.substr(at + 4, n));
    at += 4 + n;
    return true;
  };
  if (!take()) return std::nullopt;  // the vendor
  if (at + 4 > c.size()) return std::nullopt;
  const size_t count = Le32(c, at);
  at += 4;
  for (size_t i = 0; i < count; ++i)
    if (!take()) return std::nullopt;
  if (at != c.size()) return std::nullopt;
  return out;
}

std::optional<RawView> FlacForeign(const std::string& b) {
  auto layout = WalkFlac(b);
  if (!layout) return std::nullopt;
  RawView view{"before fLaC:" + layout->before};
  // The comment's place among the blocks is not compared (a first write
  // puts a new one after STREAMINFO), its contents are, after the blocks.
  RawView comment;
  for (const FlacBlock& block : layout->blocks) {
    if (block.type == 1) continue;  // padding: absorbs the change
    if (block.type != 4) {
      view.push_back("block " + std::to_string(block.type) + ":" + block.body);
      continue;
    }
    if (!comment.empty()) return std::nullopt;  // two: refused by the plugin
    auto fields = VorbisComment(block.body);
    if (!fields) return std::nullopt;
    comment.push_back("vendor:" + fields->front());
    for (size_t i = 1; i < fields->size(); ++i)
      if (!OursVorbis((*fields)[i])) comment.push_back("field:" + (*fields)[i]);
  }
  // A first write adds a comment: an empty vendor and no foreign field.
  if (comment.empty()) comment.push_back("vendor:");
  view.insert(view.end(), comment.begin(), comment.end());
  view.push_back("after the metadata:" + layout->after);
  return view;
}

// --- MP4 -------------------------------------------------------------------

const char* const kContainers[] = {"moov", "trak", "mdia", "minf",
                                   "stbl", "udta", "edts", "dinf",
                                   "mvex", "moof", "traf", "ilst"};
// A write may move, resize or create these.
const char* const kSkipped[] = {"free", "skip", "mdat", "stco", "co64"};

bool OneOf(const std::string& kind, const char* const* list, size_t n) {
  return std::find(list, list + n, kind) != list + n;
}

struct Mp4Item {
  std::string mean, name;
  std::vector<std::string> values;  // data atoms' payloads
};

// The children of an ilst item: mean, name and data (values).
Mp4Item ReadItem(const std::string& body) {
  Mp4Item item;
  size_t at = 0;
  while (at + 8 <= body.size()) {
    const size_t size = Be32(body, at);
    if (size < 8 || size > body.size() - at) break;
    const std::string kind = body.substr(at + 4, 4);
    if ((kind == "mean" || kind == "name") && size >= 12)
      (kind == "mean" ? item.mean : item.name) =
          body.substr(at + 12, size - 12);
    else if (kind == "data" && size >= 16)
      item.values.push_back(body.substr(at + 16, size - 16));
    at += size;
  }
  return item;
}

bool OursMp4(const Mp4Item& item) {
  return item.mean == "com.apple.iTunes" &&
         (item.name.rfind("nom.", 0) == 0 || item.name.rfind("nom:", 0) == 0);
}

// Leaves (path, body) under [start, end); false when an atom runs past
// its parent.
bool Mp4Leaves(const std::string& b, size_t start, size_t end,
               const std::string& path,
               std::vector<std::pair<std::string, std::string>>* out,
               std::vector<Mp4Item>* ours) {
  size_t at = start;
  while (at + 8 <= end) {
    uint64_t size = Be32(b, at);
    size_t head = 8;
    if (size == 1) {
      if (at + 16 > end) return false;
      size = (uint64_t(Be32(b, at + 8)) << 32) | Be32(b, at + 12);
      head = 16;
    } else if (size == 0) {
      size = end - at;
    }
    if (size < head || size > end - at) return false;
    const std::string kind = b.substr(at + 4, 4);
    const std::string here = path.empty() ? kind : path + "." + kind;
    const size_t body = at + head, stop = at + size;
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, "ilst") == 0) {
      Mp4Item item =
          kind == "----" ? ReadItem(b.substr(body, stop - body)) : Mp4Item{};
      if (kind == "----" && OursMp4(item))
        ours->push_back(std::move(item));
      else
        out->emplace_back(here, b.substr(body, stop - body));
    } else if (kind == "meta") {
      if (stop - body < 4) return false;
      out->emplace_back(here + "#version", b.substr(body, 4));
      if (!Mp4Leaves(b, body + 4, stop, here, out, ours)) return false;
    } else if (OneOf(kind, kContainers, std::size(kContainers))) {
      if (!Mp4Leaves(b, body, stop, here, out, ours)) return false;
    } else if (!OneOf(kind, kSkipped, std::size(kSkipped))) {
      out->emplace_back(here, b.substr(body, stop - body));
    }
    at = stop;
  }
  return true;
}

// The leaves as "path:body", sorted. A write creates moov/udta/meta
// (with an iTunes hdlr) when missing: for an original without it, pass
// drop_created to leave those two leaves of the written file out.
std::optional<RawView> Mp4Foreign(const std::string& b, bool drop_created) {
  std::vector<std::pair<std::string, std::string>> leaves;
  std::vector<Mp4Item> ours;
  if (b.size() < 8 || !Mp4Leaves(b, 0, b.size(), "", &leaves, &ours))
    return std::nullopt;
  std::sort(leaves.begin(), leaves.end());
  RawView view;
  for (const auto& [path, body] : leaves)
    if (!drop_created ||
        (path != "moov.udta.meta#version" && path != "moov.udta.meta.hdlr"))
      view.push_back(path + ":" + body);
  return view;
}

bool HasMeta(const RawView& view) {
  return std::any_of(view.begin(), view.end(), [](const std::string& s) {
    return s.rfind("moov.udta.meta#version:", 0) == 0;
  });
}

std::optional<RawView> Foreign(const std::string& container,
                               const std::string& bytes, bool drop_created) {
  if (container == "flac") return FlacForeign(bytes);
  if (container == "mp4") return Mp4Foreign(bytes, drop_created);
  if (container == "mp3") {
    auto end = Id3v2Length(bytes);
    if (!end) return std::nullopt;
    return RawView{"after the ID3v2 tag:" + bytes.substr(*end)};
  }
  return std::nullopt;
}

}  // namespace

Judged CompareForeign(const std::string& container, const std::string& before,
                      const std::string& after, std::string* why) {
  auto was = Foreign(container, before, false);
  if (!was) return Judged::kNotJudged;
  auto now = Foreign(container, after, container == "mp4" && !HasMeta(*was));
  if (!now) {
    *why = "the written file cannot be walked";
    return Judged::kDifferent;
  }
  if (*now == *was) return Judged::kSame;
  auto [a, b] =
      std::mismatch(was->begin(), was->end(), now->begin(), now->end());
  auto head = [](const std::string& s) { return s.substr(0, s.find(':')); };
  *why = "first difference: " +
         (a != was->end() ? head(*a) : std::string("(end)")) + " became " +
         (b != now->end() ? head(*b) : std::string("(end)"));
  return Judged::kDifferent;
}

std::optional<std::map<std::string, std::vector<std::string>>> OursRaw(
    const std::string& container, const std::string& bytes) {
  std::map<std::string, std::vector<std::string>> out;
  if (container == "flac") {
    auto layout = WalkFlac(bytes);
    if (!layout) return std::nullopt;
    for (const FlacBlock& block : layout->blocks) {
      if (block.type != 4) continue;
      auto fields = VorbisComment(block.body);
      if (!fields) return std::nullopt;
      for (size_t i = 1; i < fields->size(); ++i) {
        const std::string& f = (*fields)[i];
        if (!OursVorbis(f)) continue;
        const size_t eq = f.find('=');
        if (eq == std::string::npos) return std::nullopt;
        // NOM:<KEY> (a NOM_ field left behind keeps its prefix: a mismatch)
        std::string key = Lower(f.substr(0, eq));
        if (key.rfind("nom:", 0) == 0) key = key.substr(4);
        out[key].push_back(f.substr(eq + 1));
      }
    }
    return out;
  }
  if (container == "mp4") {
    std::vector<std::pair<std::string, std::string>> leaves;
    std::vector<Mp4Item> ours;
    if (!Mp4Leaves(bytes, 0, bytes.size(), "", &leaves, &ours))
      return std::nullopt;
    for (const Mp4Item& item : ours) {
      // nom.<key>; the legacy nom:<key> keeps its prefix: a mismatch.
      std::string key =
          item.name.rfind("nom.", 0) == 0 ? item.name.substr(4) : item.name;
      auto& values = out[key];
      values.insert(values.end(), item.values.begin(), item.values.end());
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace nomtag::fuzz
