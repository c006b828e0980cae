// How a person reads a foreign item: `tags show` prints what nomtag left
// alone, so the user can see it is all still there.
//
// The snapshot items of the bundled format plugins (format_plugin.h) are
// their raw rendered form: an ID3v2 frame with its header, the values of a
// Vorbis field separated by NULs, an MP4 item's fields. This decodes the
// ones that are text (ID3v2 text, TXXX, COMM, USLT and URL frames; Vorbis
// fields and vendor; MP4 string, number and pair items; ID3v1) into UTF-8;
// anything else (pictures, private frames, raw structure) is described by
// its kind and size. Decoding never fails: what it does not recognise is
// "binary".
#ifndef NOMTAG_FORMATS_FOREIGN_TEXT_H_
#define NOMTAG_FORMATS_FOREIGN_TEXT_H_

#include <string>
#include <vector>

#include "formats/format_plugin.h"

namespace nomtag {

struct ForeignText {
  bool is_text = false;
  // is_text: the values, in UTF-8, in order (an ID3v2 text frame or a
  // Vorbis field can hold several). Else: one line such as
  // "picture, 48213 bytes".
  std::vector<std::string> values;
};

ForeignText DescribeForeignItem(const ForeignItem& item);

// An item's id for a terminal: as is when it is UTF-8, else read as
// Latin-1 (MP4 names such as "\xa9nam" are bytes, shown as "©nam").
std::string ForeignIdText(const std::string& id);

// One line for a terminal: values joined by "; ", control characters
// escaped, at most max_chars characters (then "… (N chars)").
std::string ForeignTextLine(const ForeignText& text, size_t max_chars = 300);

}  // namespace nomtag

#endif  // NOMTAG_FORMATS_FOREIGN_TEXT_H_
