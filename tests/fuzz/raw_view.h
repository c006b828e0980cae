// What a fuzzed file holds besides our namespace, read by the harness's
// own walk of the raw bytes, never by a plugin's reader (which is what
// verified the write): the same idea as tests/support/independent_view.py,
// small enough to run on every fuzz input.
//
//   FLAC  the bytes before "fLaC" (an ID3v2 tag), every metadata block but
//         PADDING and VORBIS_COMMENT byte for byte in order, the comment's
//         vendor and foreign fields byte for byte in order, and every byte
//         after the metadata (the frames, an ID3v1 tag);
//   MP3   every byte after the ID3v2 tag (the audio, ID3v1, APE, Lyrics3);
//   MP4   every atom leaf byte for byte (sorted by path), every ilst item
//         that is not ours; free space, mdat and the chunk offsets aside
//         (a write may move them).
//
// Ogg and the frames inside an ID3v2 tag are not walked here (pages are
// renumbered; frames may be unsynchronised): the plugin's own view and the
// splice tests (tests/splice/, by mutagen) cover them.
//
// An original that is not plainly that container (damaged, or a form the
// walk does not know) is not judged: what the walk cannot read it does not
// judge. A written file it cannot walk, when it could walk the original,
// is a difference.
#ifndef NOMTAG_TESTS_FUZZ_RAW_VIEW_H_
#define NOMTAG_TESTS_FUZZ_RAW_VIEW_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nomtag::fuzz {

using RawView = std::vector<std::string>;

enum class Judged { kSame, kDifferent, kNotJudged };

// Whether after (a written version of before) holds what before held
// besides our namespace. kNotJudged when before cannot be walked, or the
// container is not walked here; on kDifferent, *why says where.
Judged CompareForeign(const std::string& container, const std::string& before,
                      const std::string& after, std::string* why);

// Our keys and values as stored (FLAC: NOM:<KEY>=value fields, keys
// lower-cased; MP4: ----:com.apple.iTunes:nom.<key> items, one value per
// data atom); nullopt for other containers or unreadable bytes.
std::optional<std::map<std::string, std::vector<std::string>>> OursRaw(
    const std::string& container, const std::string& bytes);

}  // namespace nomtag::fuzz

#endif  // NOMTAG_TESTS_FUZZ_RAW_VIEW_H_
