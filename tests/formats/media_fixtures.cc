#include "media_fixtures.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

namespace nomtag::testing {
namespace {

const std::string& TempDir() {
  // Never destroyed, so the exit handler below can still use it.
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/nomtag-format-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    return new std::string(tmpl);
  }();
  // Each test process makes its own media; leave nothing behind.
  static const bool cleanup_registered = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
    });
    return true;
  }();
  (void)cleanup_registered;
  return *dir;
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command; returns stdout, throws with stderr on failure.
std::string Run(const std::string& cmd) {
  std::string err = ScratchPath("err");
  FILE* p = popen((cmd + " 2>" + Quote(err)).c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) {
    auto e = ReadBytes(err);
    throw std::runtime_error("command failed (" + std::to_string(rc) + "): " +
                             cmd + "\n" + std::string(e.begin(), e.end()));
  }
  return out;
}

std::string Ffmpeg(const std::string& args) {
  return Run("ffmpeg -hide_banner -loglevel error -nostdin -y " + args);
}

const std::string& Cover() {
  static const std::string path = [] {
    std::string p = TempDir() + "/cover.png";
    Ffmpeg("-f lavfi -i color=c=red:s=16x16 -frames:v 1 " + Quote(p));
    return p;
  }();
  return path;
}

const char* kSine = "-f lavfi -i sine=frequency=440:duration=2 ";
const char* kTags =
    "-metadata title='Foreign Title' -metadata artist='Foreign Artist' "
    "-metadata CUSTOM_FIELD='keep me' -metadata date=2020 ";

// Embeds the cover in an Ogg file as METADATA_BLOCK_PICTURE (ffmpeg's Ogg
// muxer cannot).
void AddOggPicture(const std::string& path, const std::string& cls) {
  RunPython(
      "import base64, mutagen." + cls +
      " as m\n"
      "from mutagen.flac import Picture\n"
      "pic = Picture(); pic.type = 3; pic.mime = 'image/png'\n"
      "pic.desc = 'cover'; pic.data = open(" +
      Quote(Cover()) +
      ", 'rb').read()\n"
      "f = m.Open(" +
      Quote(path) +
      ")\n"
      "f['METADATA_BLOCK_PICTURE'] = [base64.b64encode(pic.write()).decode()]\n"
      "f.save()\n");
}

std::string Make(const std::string& kind) {
  const std::string out = TempDir() + "/pristine-" + kind;
  const std::string cover = Quote(Cover());
  if (kind == "mp3" || kind == "mp3-v23") {
    std::string path = out + ".mp3";
    Ffmpeg(std::string(kSine) + "-i " + cover +
           " -map 0:a -map 1:v -c:a libmp3lame -c:v copy " + kTags +
           "-metadata:s:v comment='Cover (front)' -id3v2_version " +
           (kind == "mp3" ? "4 " : "3 ") + Quote(path));
    return path;
  }
  if (kind == "m4a") {
    // ffmpeg's m4a muxer writes neither a cover nor iTunes freeform atoms;
    // mutagen adds both.
    std::string path = out + ".m4a";
    Ffmpeg(std::string(kSine) + "-c:a aac " + kTags + Quote(path));
    RunPython(
        "from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm\n"
        "f = MP4(" +
        Quote(path) +
        ")\n"
        "f['----:com.apple.iTunes:CUSTOM_FIELD'] = [MP4FreeForm(b'keep me')]\n"
        "f['covr'] = [MP4Cover(open(" +
        cover +
        ", 'rb').read(), "
        "MP4Cover.FORMAT_PNG)]\n"
        "f.save()\n");
    return path;
  }
  if (kind == "m4a-mdta") {
    // QuickTime-style metadata (a keys atom, items numbered): TagLib 1.13
    // does not understand it.
    std::string path = out + ".m4a";
    Ffmpeg(std::string(kSine) + "-c:a aac -movflags use_metadata_tags " +
           kTags + Quote(path));
    return path;
  }
  if (kind == "flac") {
    std::string path = out + ".flac";
    Ffmpeg(
        std::string(kSine) + "-i " + cover +
        " -map 0:a -map 1:v -c:a flac -c:v copy -disposition:v attached_pic " +
        kTags + Quote(path));
    return path;
  }
  if (kind == "ogg" || kind == "opus") {
    std::string path = out + "." + kind;
    Ffmpeg(std::string(kSine) + "-c:a " +
           (kind == "ogg" ? "libvorbis " : "libopus ") + kTags + Quote(path));
    AddOggPicture(path, kind == "ogg" ? "oggvorbis" : "oggopus");
    return path;
  }
  throw std::runtime_error("unknown media kind " + kind);
}

}  // namespace

std::string MediaFile(const std::string& kind) {
  static std::map<std::string, std::string> made;
  auto it = made.find(kind);
  if (it == made.end()) it = made.emplace(kind, Make(kind)).first;
  return it->second;
}

std::string ScratchPath(const std::string& ext) {
  static int n = 0;
  return TempDir() + "/scratch-" + std::to_string(++n) + "." + ext;
}

std::string TestFolderName(const std::string& prefix) {
  std::string name =
      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : name)
    if (c == '/') c = '_';
  return prefix + "-" + std::to_string(::getpid()) + "-" + name;
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string IndependentView(const std::string& path) {
  return Run(
      std::string(NOMTAG_TEST_PYTHON) + " " +
      Quote(std::string(NOMTAG_TEST_SUPPORT_DIR) + "/independent_view.py") +
      " " + Quote(path));
}

std::string RunPython(const std::string& program) {
  std::string script = ScratchPath("py");
  WriteBytes(script, std::vector<uint8_t>(program.begin(), program.end()));
  return Run(std::string(NOMTAG_TEST_PYTHON) + " " + Quote(script));
}

std::string WithLegacyAndLookalikes(const std::string& kind) {
  std::string src = MediaFile(kind);
  std::string ext = src.substr(src.rfind('.') + 1);
  std::string path = ScratchPath(ext);
  WriteBytes(path, ReadBytes(src));
  const std::string p = Quote(path);
  if (kind == "mp3" || kind == "mp3-v23") {
    RunPython(
        "from mutagen.id3 import ID3, TXXX\n"
        // translate=False: mutagen would otherwise save v2.4's TDRC into a
        // v2.3 tag (which TagLib then converts: a foreign change).
        "t = ID3(" +
        p +
        ", translate=False)\n"
        "for d in ['nom', 'nomad', 'NOM:upper', 'nom']:\n"
        "    t.add(TXXX(encoding=3, desc=d, text=['look-alike']))\n"
        "t.add(TXXX(encoding=3, desc='nom:old-key', text=['a', 'b']))\n"
        "t.save(v2_version=" +
        (kind == "mp3" ? "4" : "3") + ")\n");
  } else if (kind == "m4a") {
    RunPython(
        "from mutagen.mp4 import MP4, MP4FreeForm\n"
        "f = MP4(" +
        p +
        ")\n"
        "f['----:com.apple.iTunes:nom:legacy-key'] = [MP4FreeForm(b'old')]\n"
        "f['----:com.apple.iTunes:nomad'] = [MP4FreeForm(b'look-alike')]\n"
        "f['----:org.example:nom.other-mean'] = [MP4FreeForm(b'look-alike')]\n"
        "f.save()\n");
  } else {
    std::string cls = kind == "flac"  ? "flac"
                      : kind == "ogg" ? "oggvorbis"
                                      : "oggopus";
    RunPython("import mutagen." + cls +
              " as m\n"
              "f = m.Open(" +
              p +
              ")\n"
              "f['NOM_LEGACY_KEY'] = ['old']\n"
              "f['nom:lower-case'] = ['x', 'y']\n"
              "f['NOMINATED'] = ['look-alike']\n"
              "f['NOMAD'] = ['look-alike']\n"
              "f.save()\n");
  }
  return path;
}

std::vector<std::string> MutagenNames(const std::string& kind,
                                      const std::string& path) {
  const std::string p = Quote(path);
  std::string program;
  if (kind == "mp3" || kind == "mp3-v23")
    program =
        "from mutagen.id3 import ID3\n"
        "for f in ID3(" +
        p + ").getall('TXXX'): print(f.desc)\n";
  else if (kind == "m4a")
    program =
        "from mutagen.mp4 import MP4\n"
        "for k in MP4(" +
        p +
        ").tags.keys():\n"
        "    print(k) if k.startswith('----') else None\n";
  else  // Vorbis field names are case-insensitive; TagLib upper-cases them.
    program =
        "import mutagen\n"
        "for k, v in mutagen.File(" +
        p + ").tags: print(k.upper())\n";
  std::istringstream lines(RunPython(program));
  std::vector<std::string> names;
  for (std::string line; std::getline(lines, line);) names.push_back(line);
  std::sort(names.begin(), names.end());
  return names;
}

std::string FfmpegAudioHash(const std::string& path) {
  return Ffmpeg("-i " + Quote(path) +
                " -map 0:a -c copy -f hash -hash sha256 -");
}

}  // namespace nomtag::testing
