// Baselines for the write benchmark, measured in the same run as nomtag:
//   copy    — copy each file to a temporary file in its directory, fsync,
//             rename over the original, fsync the directory: the floor any
//             copy-based safe write pays;
//   taglib  — TagLib writing the same tags in place, with no safety at all.
#include "write_bench_baselines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <taglib/flacfile.h>
#include <taglib/id3v2tag.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>
#include <taglib/mpegfile.h>
#include <taglib/opusfile.h>
#include <taglib/textidentificationframe.h>
#include <taglib/vorbisfile.h>
#include <taglib/xiphcomment.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace nomtag::bench {
namespace {

namespace fs = std::filesystem;

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

void FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  Check(fd >= 0, "open dir " + dir.string());
  ::fsync(fd);
  ::close(fd);
}

void SetXiph(TagLib::Ogg::XiphComment* c, const TagSet& tags) {
  Check(c != nullptr, "no Xiph comment");
  for (const auto& [k, values] : tags) {
    std::string field = "NOM:" + k;
    for (auto& ch : field) ch = static_cast<char>(std::toupper(ch));
    c->removeFields(field);
    for (const auto& v : values)
      c->addField(field, TagLib::String(v, TagLib::String::UTF8), false);
  }
}

}  // namespace

void CopyAndRename(const std::string& path) {
  fs::path p(path);
  fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".bench-tmp");
  int in = ::open(path.c_str(), O_RDONLY);
  Check(in >= 0, "open " + path);
  struct stat st;
  ::fstat(in, &st);
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, st.st_mode);
  Check(out >= 0, "create " + tmp.string());
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = ::read(in, buf.data(), buf.size())) > 0)
    Check(::write(out, buf.data(), n) == n, "write " + tmp.string());
  ::close(in);
  Check(::fsync(out) == 0, "fsync");
  ::close(out);
  Check(::rename(tmp.c_str(), path.c_str()) == 0, "rename");
  FsyncDir(p.parent_path());
}

void TagLibInPlace(const std::string& path, const TagSet& tags) {
  std::string ext = fs::path(path).extension().string();
  if (ext == ".mp3") {
    TagLib::MPEG::File f(path.c_str());
    Check(f.isValid(), "invalid " + path);
    TagLib::ID3v2::Tag* tag = f.ID3v2Tag(true);
    int version = tag->header()->majorVersion() == 3 ? 3 : 4;
    for (const auto& [k, values] : tags) {
      TagLib::String desc("nom:" + k, TagLib::String::UTF8);
      if (auto* old =
              TagLib::ID3v2::UserTextIdentificationFrame::find(tag, desc))
        tag->removeFrame(old);
      auto* frame =
          new TagLib::ID3v2::UserTextIdentificationFrame(TagLib::String::UTF8);
      frame->setDescription(desc);
      TagLib::StringList list;
      for (const auto& v : values)
        list.append(TagLib::String(v, TagLib::String::UTF8));
      frame->setText(list);
      tag->addFrame(frame);
    }
    Check(f.save(TagLib::MPEG::File::ID3v2, TagLib::File::StripNone,
                 version == 3 ? TagLib::ID3v2::v3 : TagLib::ID3v2::v4,
                 TagLib::File::DoNotDuplicate),
          "save " + path);
  } else if (ext == ".m4a") {
    TagLib::MP4::File f(path.c_str());
    Check(f.isValid(), "invalid " + path);
    for (const auto& [k, values] : tags) {
      TagLib::StringList list;
      for (const auto& v : values)
        list.append(TagLib::String(v, TagLib::String::UTF8));
      f.tag()->setItem("----:com.apple.iTunes:nom." + k,
                       TagLib::MP4::Item(list));
    }
    Check(f.save(), "save " + path);
  } else if (ext == ".flac") {
    TagLib::FLAC::File f(path.c_str());
    Check(f.isValid(), "invalid " + path);
    SetXiph(f.xiphComment(true), tags);
    Check(f.save(), "save " + path);
  } else if (ext == ".ogg") {
    TagLib::Ogg::Vorbis::File f(path.c_str());
    Check(f.isValid(), "invalid " + path);
    SetXiph(f.tag(), tags);
    Check(f.save(), "save " + path);
  } else if (ext == ".opus") {
    TagLib::Ogg::Opus::File f(path.c_str());
    Check(f.isValid(), "invalid " + path);
    SetXiph(f.tag(), tags);
    Check(f.save(), "save " + path);
  } else {
    throw std::runtime_error("no baseline for " + path);
  }
}

}  // namespace nomtag::bench
