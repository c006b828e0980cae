#include "write/group_write.h"

#include <algorithm>

#include "core/parallel_for.h"

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
    // A round that waits takes one file; any other takes up to kMaxGroup
    // and opens them side by side (an open resolves the path beneath the
    // root, takes the lock without waiting, settles leftovers and probes
    // the format: work on that file alone).
    const size_t take = std::min(pending.size(), wait ? 1 : kMaxGroup);
    std::vector<OpenedFile> files(take);
    std::vector<Status> status(take);
    std::vector<char> busy(take, 0);
    ParallelFor(
        0, take, wait ? 1 : WorkThreads(),
        [&](size_t k) {
          bool b = false;
          status[k] = open(pending[k], wait ? -1 : 0, &b, &files[k]);
          busy[k] = b;
        },
        [] { return true; });
    for (size_t k = 0; k < take; ++k) {
      const size_t i = pending[k];
      if (busy[k] && !wait) {
        later.push_back(i);
      } else if (!status[k].ok()) {
        results[i] = status[k];
      } else {
        group.push_back({files[k].format, files[k].target.get(),
                         items[i].desired, items[i].options});
        opened.push_back(std::move(files[k]));
        index.push_back(i);
      }
    }
    later.insert(later.end(), pending.begin() + take, pending.end());
    auto written = SafeWriteBatch(group);
    for (size_t k = 0; k < written.size(); ++k)
      results[index[k]] = std::move(written[k]);
    wait = group.empty();  // nothing could be locked without waiting
    pending = std::move(later);
  }
  return results;
}

}  // namespace nomtag
