// Test media made on the spot with ffmpeg (and python3-mutagen where
// ffmpeg cannot write what a test needs), plus independent readers used to
// cross-check the plugins. Every file carries foreign tags: title, artist,
// a custom text field and an embedded picture.
//
// Files are made once per process in a private temporary directory.
// Failures throw std::runtime_error with the command and its output.
#ifndef NOMTAG_TESTS_FORMATS_MEDIA_FIXTURES_H_
#define NOMTAG_TESTS_FORMATS_MEDIA_FIXTURES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::testing {

// Kinds: "mp3" (ID3v2.4), "mp3-v23" (ID3v2.3), "m4a", "m4a-mdta"
// (QuickTime keys-style metadata, no cover), "flac", "ogg", "opus". Returns the
// path of a pristine file of that kind.
std::string MediaFile(const std::string& kind);

// A scratch path in the temporary directory, unique per call.
std::string ScratchPath(const std::string& ext);

// A folder name for the running test, "PREFIX-PID-NAME", one path
// component: a parameterized test's name ("Test/mp3") has its slash
// replaced, or its fixture would remove only the inner folder and leave
// the outer one in /tmp after every run.
std::string TestFolderName(const std::string& prefix);

std::vector<uint8_t> ReadBytes(const std::string& path);
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Runs a python3 (with mutagen) program; returns its standard output.
std::string RunPython(const std::string& program);

// Adds keys with mutagen: legacy-encoded `nom` keys (MP4 ----:...:nom:k,
// Vorbis NOM_K) and foreign look-alikes (nomad, NOMINATED, TXXX "nom").
// Writes to a copy and returns its path.
std::string WithLegacyAndLookalikes(const std::string& kind);

// The tag names an independent reader (mutagen) sees: TXXX descriptions,
// MP4 freeform names, Vorbis field names as stored; one per line, sorted.
std::vector<std::string> MutagenNames(const std::string& kind,
                                      const std::string& path);

// ffmpeg's hash of the encoded audio packets (stream copy).
std::string FfmpegAudioHash(const std::string& path);

// tests/support/independent_view.py on path, as JSON text:
// {"ours": {key: [values]}, "foreign": sha256 of everything not ours
// (mutagen's full view, raw FLAC blocks and MP4 atoms), "audio": ffmpeg's
// hash}. No nomtag code reads the file.
std::string IndependentView(const std::string& path);

}  // namespace nomtag::testing

#endif  // NOMTAG_TESTS_FORMATS_MEDIA_FIXTURES_H_
