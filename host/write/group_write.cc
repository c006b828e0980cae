#include "write/group_write.h"

namespace nomtag {

std::vector<Result<WriteResult>> WriteInGroups(
    const std::vector<GroupWriteItem>& items, const OpenForGroup& open) {
  std::vector<Result<WriteResult>> results(items.size(),
                                           Status::Internal("not written"));
  std::vector<size_t> pending(items.size());
  for (size_t i = 0; i < items.size(); ++i) pending[i] = i;
  bool wait = false;
  while (!pending.empty()) {
    std::vector<OpenedFile> opened;
    std::vector<SafeWriteItem> group;
    std::vector<size_t> index;  // item of each group member
    std::vector<size_t> later;
    for (size_t i : pending) {
      if (group.size() == kMaxGroup || (wait && !group.empty())) {
        later.push_back(i);
        continue;
      }
      OpenedFile file;
      bool busy = false;
      Status s = open(i, wait ? -1 : 0, &busy, &file);
      if (busy && !wait) {
        later.push_back(i);
        continue;
      }
      if (!s.ok()) {
        results[i] = s;
        continue;
      }
      group.push_back(
          {file.format, file.target.get(), items[i].desired, items[i].options});
      opened.push_back(std::move(file));
      index.push_back(i);
    }
    auto written = SafeWriteBatch(group);
    for (size_t k = 0; k < written.size(); ++k)
      results[index[k]] = std::move(written[k]);
    wait = group.empty();  // nothing could be locked without waiting
    pending = std::move(later);
  }
  return results;
}

}  // namespace nomtag
