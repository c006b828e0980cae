// Fuzzes the journal reader: journals are read back from disk after a
// crash, and whatever a damaged one holds must give "torn" or a parse
// whose extents are checked against the file, never a crash or a huge
// allocation. The harness seals each input with a valid checksum, so the
// parser is explored rather than the SHA-256 in front of it; the first
// input byte picks the journal format (J1, J2 or J3, a journal of several
// files). Each parsed entry is then matched against a scratch file.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "write/journal.h"
#include "write/journal_match.h"

namespace {

// Made once per process and removed at its exit (never destroyed, so the
// exit handler can still read it).
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("nomtag-fuzz-journal-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::ofstream(d / "file") << std::string(4096, 'x');
    return new std::string(d.string());
  }();
  static const bool cleanup = [] {
    std::atexit([] { std::filesystem::remove_all(*dir); });
    return true;
  }();
  (void)cleanup;
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kFormats[] = {"NOMTAGJ1", "NOMTAGJ2", "NOMTAGJ3",
                                         "NOMTAGJ4"};
  const int format = data[0] % 4;
  std::string journal = kFormats[format];
  journal.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  journal += nomtag::Sha256(journal);
  const std::string path = ScratchDir() + "/journal";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << journal;
  bool torn = false;
  auto entries = nomtag::ReadJournal(path, &torn);
  if (!entries.ok() || torn) return 0;
  // A journal of several files names each (J4: one entry may name none);
  // one of one file names none.
  if (entries->empty()) __builtin_trap();
  for (const nomtag::Journal& j : *entries)
    if ((format < 2 && !j.file.empty()) ||
        (format >= 2 && j.file.empty() &&
         !(format == 3 && entries->size() == 1)) ||
        (format < 3 && j.shift_len != 0))
      __builtin_trap();
  for (const nomtag::Journal& j : *entries) {
    auto match = nomtag::MatchJournal(ScratchDir() + "/file", j);
    // A J1 journal can never be judged.
    if (match.ok() && j.written.empty() &&
        *match != nomtag::JournalMatch::kUnknown)
      __builtin_trap();
  }
  return 0;
}
