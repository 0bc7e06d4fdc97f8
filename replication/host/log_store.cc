#include "replication/host/log_store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "datatypes/encoding.h"
#include "replication/codec.h"

namespace keel::replication {
namespace {

std::string GroupKey(GroupId group, char kind) {
  std::string k(1, 'g');
  PutFixed64BE(&k, group);
  k.push_back(kind);
  return k;
}

std::string EntryKey(GroupId group, uint64_t index) {
  std::string k = GroupKey(group, 'e');
  PutFixed64BE(&k, index);
  return k;
}

}  // namespace

Status LogStore::Open(const std::string& dir, std::unique_ptr<LogStore>* out, std::string* error) {
  rocksdb::Options options;
  options.create_if_missing = true;
  // Log records are written once and read back only at restart or to catch a peer up.
  options.max_total_wal_size = 64 << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(options, dir, &raw);
  if (!st.ok()) {
    if (error != nullptr) *error = st.ToString();
    return Status::kUnavailable;
  }
  out->reset(new LogStore(std::unique_ptr<rocksdb::DB>(raw)));
  return Status::kOk;
}

Status LogStore::SyncWal() { return db_->SyncWAL().ok() ? Status::kOk : Status::kUnavailable; }

bool LogStore::Exists(GroupId group) {
  std::string prefix = GroupKey(group, 'h');
  std::string value;
  return db_->Get(rocksdb::ReadOptions(), prefix, &value).ok();
}

Status LogStore::Erase(GroupId group) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(GroupKey(group, '\0'), GroupKey(group + 1, '\0'));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return db_->Write(wo, &batch).ok() ? Status::kOk : Status::kUnavailable;
}

std::string LogStore::GetNodeRecord(const std::string& name) {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), "n" + name, &value).ok()) return "";
  return value;
}

Status LogStore::PutNodeRecord(const std::string& name, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return db_->Put(wo, "n" + name, value).ok() ? Status::kOk : Status::kUnavailable;
}

Status LogStore::Load(GroupId group, uint64_t applied, PersistentState* out) {
  *out = PersistentState();
  std::string value;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), GroupKey(group, 'h'), &value);
  if (st.ok()) {
    if (DecodeHardState(value, &out->hard_state) != Status::kOk) return Status::kCorrupt;
  } else if (!st.IsNotFound()) {
    return Status::kUnavailable;
  }
  st = db_->Get(rocksdb::ReadOptions(), GroupKey(group, 's'), &value);
  if (st.ok()) {
    if (DecodeSnapshotMeta(value, &out->snapshot) != Status::kOk) return Status::kCorrupt;
  } else if (!st.IsNotFound()) {
    return Status::kUnavailable;
  }
  std::string prefix = GroupKey(group, 'e');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  uint64_t want = out->snapshot.index + 1;
  for (it->Seek(EntryKey(group, want)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.size() != prefix.size() + 8) break;
    uint64_t index = GetFixed64BE(k.data() + prefix.size());
    if (index != want) break;  // entries after a gap are from no prefix anyone agreed to
    Entry e;
    if (DecodeEntry(std::string_view(it->value().data(), it->value().size()), &e) != Status::kOk ||
        e.index != index) {
      return Status::kCorrupt;
    }
    out->entries.push_back(std::move(e));
    ++want;
  }
  if (!it->status().ok()) return Status::kUnavailable;
  out->applied = std::max(applied, out->snapshot.index);
  return Status::kOk;
}

Status LogStore::Persist(GroupId group, const std::optional<HardState>& hard_state,
                         const std::vector<Entry>& entries, bool sync) {
  if (!hard_state && entries.empty()) return Status::kOk;
  rocksdb::WriteBatch batch;
  if (hard_state) batch.Put(GroupKey(group, 'h'), EncodeHardState(*hard_state));
  for (const Entry& e : entries) batch.Put(EntryKey(group, e.index), EncodeEntry(e));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return db_->Write(wo, &batch).ok() ? Status::kOk : Status::kUnavailable;
}

Status LogStore::PersistSnapshotMeta(GroupId group, const SnapshotMeta& meta, bool sync) {
  rocksdb::WriteBatch batch;
  batch.Put(GroupKey(group, 's'), EncodeSnapshotMeta(meta));
  batch.DeleteRange(EntryKey(group, 0), EntryKey(group, meta.index + 1));
  batch.Delete(GroupKey(group, 'i'));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return db_->Write(wo, &batch).ok() ? Status::kOk : Status::kUnavailable;
}

}  // namespace keel::replication

namespace keel::replication {

Status LogStore::PutInstallMarker(GroupId group, const SnapshotMeta& meta,
                                  const std::string& staged_dir) {
  std::string meta_bytes = EncodeSnapshotMeta(meta);
  std::string v;
  PutFixed32LE(&v, static_cast<uint32_t>(meta_bytes.size()));
  v += meta_bytes;
  v += staged_dir;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return db_->Put(wo, GroupKey(group, 'i'), v).ok() ? Status::kOk : Status::kUnavailable;
}

bool LogStore::GetInstallMarker(GroupId group, SnapshotMeta* meta, std::string* staged_dir,
                                Status* status) {
  if (status != nullptr) *status = Status::kOk;
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), GroupKey(group, 'i'), &v).ok()) return false;
  uint32_t n = v.size() >= 4 ? GetFixed32LE(v.data()) : 0;
  if (v.size() < 4 || v.size() - 4 < n ||
      DecodeSnapshotMeta(std::string_view(v).substr(4, n), meta) != Status::kOk) {
    if (status != nullptr) *status = Status::kCorrupt;
    return false;
  }
  *staged_dir = v.substr(4 + n);
  return true;
}

}  // namespace keel::replication
