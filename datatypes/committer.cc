#include "datatypes/committer.h"

#include <future>

#include "datatypes/storage.h"

namespace keel {

Status Committer::SubmitAndWait(Mutation mutation, MutationEffects* effects) {
  std::promise<Status> promise;
  std::future<Status> outcome = promise.get_future();
  Submit(std::move(mutation), [&promise, effects](Status st, Mutation&& applied) {
    if (effects != nullptr) *effects = std::move(applied.effects);
    promise.set_value(std::move(st));
  });
  return outcome.get();
}

void LocalCommitter::Submit(Mutation mutation, Done done) {
  Status st = storage_->Apply(mutation);
  done(std::move(st), std::move(mutation));
}

}  // namespace keel
