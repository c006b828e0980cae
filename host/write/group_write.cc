#include "write/group_write.h"

#include <algorithm>

#include "core/parallel_for.h"
#include "write/recovery.h"

namespace nomtag {

std::vector<Result<WriteResult>> WriteInGroups(
    const std::vector<GroupWriteItem>& items, const OpenForGroup& open,
    const FormatForGroup& format) {
  std::vector<Result<WriteResult>> results(items.size(),
                                           Status::Internal("not written"));
  std::vector<size_t> pending(items.size());
  for (size_t i = 0; i < items.size(); ++i) pending[i] = i;
  bool wait = false;
  while (!pending.empty()) {
    std::vector<size_t> later;
    // A round that waits takes one file; any other takes up to kMaxGroup
    // and opens them side by side (an open resolves the path beneath the
    // root and takes the lock without waiting: work on that file alone).
    const size_t take = std::min(pending.size(), wait ? 1 : kMaxGroup);
    std::vector<std::unique_ptr<TargetFile>> files(take);
    std::vector<Status> status(take);
    std::vector<char> busy(take, 0);
    const size_t threads = wait ? 1 : WorkThreads();
    ParallelFor(
        0, take, threads,
        [&](size_t k) {
          bool b = false;
          status[k] = open(pending[k], wait ? -1 : 0, &b, &files[k]);
          busy[k] = b;
        },
        [] { return true; });
    std::vector<size_t> locked;  // k of each file opened
    for (size_t k = 0; k < take; ++k) {
      if (busy[k] && !wait)
        later.push_back(pending[k]);
      else if (!status[k].ok())
        results[pending[k]] = status[k];
      else
        locked.push_back(k);
    }
    // What killed writers left, for all of them at once.
    std::vector<TargetFile*> targets;
    for (size_t k : locked) targets.push_back(files[k].get());
    RecoveryReport recovery;
    std::vector<char> rolled_back;
    // Then each file's format; ready[j] says why file j is not written.
    std::vector<Status> ready =
        RecoverJournalsOf(targets, &recovery, &rolled_back);
    std::vector<const FormatPlugin*> formats(locked.size(), nullptr);
    ParallelFor(
        0, locked.size(), threads,
        [&](size_t j) {
          if (!ready[j].ok()) return;  // its leftovers stay unresolved
          auto f = format(pending[locked[j]], *targets[j]);
          if (f.ok())
            formats[j] = *f;
          else
            ready[j] = f.status();
        },
        [] { return true; });
    std::vector<SafeWriteItem> group;
    std::vector<size_t> index;  // item of each group member
    std::vector<char> group_rolled_back;
    for (size_t j = 0; j < locked.size(); ++j) {
      const size_t i = pending[locked[j]];
      if (!ready[j].ok()) {
        results[i] = ready[j];
        continue;
      }
      SafeWriteItem item{formats[j], targets[j], items[i].desired,
                         items[i].options};
      item.leftovers_resolved = true;
      group.push_back(std::move(item));
      group_rolled_back.push_back(rolled_back[j]);
      index.push_back(i);
    }
    later.insert(later.end(), pending.begin() + take, pending.end());
    auto written = SafeWriteBatch(group);
    for (size_t k = 0; k < written.size(); ++k) {
      if (written[k].ok() && group_rolled_back[k]) written[k]->rolled_back = 1;
      results[index[k]] = std::move(written[k]);
    }
    wait = group.empty();  // nothing could be locked without waiting
    pending = std::move(later);
  }
  return results;
}

}  // namespace nomtag
