#include "datatypes/storage.h"

#include <chrono>
#include <filesystem>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "cluster/slot.h"

namespace keel {

std::string_view FsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "everysec";
}

std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "always") return FsyncPolicy::kAlways;
  if (lower == "everysec") return FsyncPolicy::kEverySec;
  if (lower == "no") return FsyncPolicy::kNo;
  return std::nullopt;
}

namespace {

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status(Code::kNotFound);
  return Status(Code::kStorage, s.ToString());
}

std::string CounterKey(char kind, uint8_t db) {
  std::string k = kind == 'k' ? "keys" : "exps";
  k.push_back(static_cast<char>(db));
  return k;
}

constexpr std::string_view kVersionKey = "version";
constexpr std::string_view kDbMapKey = "dbmap";

std::string EncodeInt64(int64_t v) {
  std::string out;
  PutFixed64LE(&out, static_cast<uint64_t>(v));
  return out;
}

// Merges the 8-byte operands of the server records: the key counters by addition, the
// "version" record by maximum (concurrent batches may reach RocksDB in any order, and the
// record must end up at the highest version any of them used).
class Int64AddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger* /*logger*/) const override {
    uint64_t base = 0;
    if (existing != nullptr && existing->size() == 8) base = GetFixed64LE(existing->data());
    uint64_t operand = value.size() == 8 ? GetFixed64LE(value.data()) : 0;
    if (std::string_view(key.data(), key.size()) == kVersionKey) {
      *new_value = EncodeInt64(static_cast<int64_t>(std::max(base, operand)));
    } else {
      *new_value = EncodeInt64(static_cast<int64_t>(base + operand));
    }
    return true;
  }
  const char* Name() const override { return "KeelInt64Add"; }
};

// Drops sub-keys whose key version is dead: the key's metadata is gone, or names another
// version or a non-compound type. It never decides by the clock: a key past its deadline
// keeps its elements until an expiry mutation deletes its metadata, so a store whose clock
// runs ahead (a replica) cannot lose elements of a key that the writer then PERSISTs.
class SubkeyFilter : public rocksdb::CompactionFilter {
 public:
  SubkeyFilter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta_cf)
      : db_(db), meta_cf_(meta_cf) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& /*value*/,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    auto sub = DecodeSubKey(std::string_view(key.data(), key.size()));
    if (!sub) return false;  // not ours to judge
    std::string meta_key = MetaKey(sub->db, sub->user_key);
    if (meta_key != cached_key_) {
      cached_key_ = meta_key;
      std::string raw;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, meta_key, &raw);
      cached_valid_ = false;
      cached_error_ = !s.ok() && !s.IsNotFound();
      if (s.ok()) {
        cached_valid_ = DecodeMetadata(raw, &cached_meta_, nullptr);
      }
    }
    if (cached_error_) return false;  // keep on doubt
    if (!cached_valid_) return true;  // key gone
    return !cached_meta_.is_compound() || cached_meta_.version != sub->version;
  }
  const char* Name() const override { return "KeelSubkeyFilter"; }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* meta_cf_;
  mutable std::string cached_key_;
  mutable Metadata cached_meta_;
  mutable bool cached_valid_ = false;
  mutable bool cached_error_ = false;
};

class SubkeyFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  void Attach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta_cf) {
    std::lock_guard<std::mutex> l(mu_);
    db_ = db;
    meta_cf_ = meta_cf;
  }
  void Detach() { Attach(nullptr, nullptr); }
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    std::lock_guard<std::mutex> l(mu_);
    if (db_ == nullptr) return nullptr;  // during open/close: keep everything
    return std::make_unique<SubkeyFilter>(db_, meta_cf_);
  }
  const char* Name() const override { return "KeelSubkeyFilterFactory"; }

 private:
  std::mutex mu_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
};

// The first key after every key with prefix (slot, db) in the metadata/sub-key families.
std::string PrefixEnd(uint16_t slot, uint8_t db) {
  if (db < 255) return MetaKeyPrefix(slot, static_cast<uint8_t>(db + 1));
  return MetaKeyPrefix(static_cast<uint16_t>(slot + 1), 0);
}

// Calls fn(slot) for each slot holding at least one key of physical db `db` in `cf`.
template <typename Fn>
void ForEachNonEmptySlot(rocksdb::DB* rdb, rocksdb::ColumnFamilyHandle* cf, uint8_t db, Fn fn) {
  std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(rocksdb::ReadOptions(), cf));
  uint32_t slot = 0;
  it->Seek(MetaKeyPrefix(0, db));
  while (it->Valid() && slot < cluster::kSlotCount) {
    auto k = it->key();
    if (k.size() < kMetaKeyPrefixSize) {
      it->Next();
      continue;
    }
    uint32_t s = (static_cast<unsigned char>(k[0]) << 8) | static_cast<unsigned char>(k[1]);
    uint8_t d = static_cast<uint8_t>(k[2]);
    if (d == db) {
      fn(static_cast<uint16_t>(s));
      slot = s + 1;
    } else if (d < db) {
      slot = s;
    } else {
      slot = s + 1;
    }
    if (slot >= cluster::kSlotCount) break;
    it->Seek(MetaKeyPrefix(static_cast<uint16_t>(slot), db));
  }
}

}  // namespace

Storage::Storage(StorageOptions options)
    : options_(std::move(options)), fsync_(options_.fsync), decide_expiry_(options_.decide_expiry) {
  if (!options_.clock) options_.clock = SystemClockMs;
  for (int i = 0; i < kMaxDatabases; ++i) db_map_[i] = static_cast<uint8_t>(i);
  access_ = std::make_unique<std::atomic<uint64_t>[]>(kAccessSlots);
  uint64_t now = NowMs();
  for (size_t i = 0; i < kAccessSlots; ++i) access_[i].store(now, std::memory_order_relaxed);
}

namespace {
size_t AccessSlot(uint8_t db, std::string_view key, size_t slots) {
  size_t h = std::hash<std::string_view>{}(key) ^ (static_cast<size_t>(db) * 0x9e3779b97f4a7c15ULL);
  return h % slots;
}
}  // namespace

// Milliseconds, not seconds: an idle time counted in whole seconds of the clock would read 1
// right after an access that happened just before a second boundary.
void Storage::NoteAccess(uint8_t db, std::string_view key) {
  access_[AccessSlot(db, key, kAccessSlots)].store(NowMs(), std::memory_order_relaxed);
}

void Storage::SetIdleSeconds(uint8_t db, std::string_view key, uint64_t seconds) {
  uint64_t now = NowMs();
  uint64_t ms = seconds > now / 1000 ? now : seconds * 1000;
  access_[AccessSlot(db, key, kAccessSlots)].store(now - ms, std::memory_order_relaxed);
}

uint64_t Storage::IdleSeconds(uint8_t db, std::string_view key) const {
  uint64_t last = access_[AccessSlot(db, key, kAccessSlots)].load(std::memory_order_relaxed);
  uint64_t now = NowMs();
  return now > last ? (now - last) / 1000 : 0;
}

uint64_t Storage::NowMs() const { return options_.clock(); }

Result<std::unique_ptr<Storage>> Storage::Open(StorageOptions options) {
  if (options.databases < 1 || options.databases > kMaxDatabases) {
    return Status(Code::kInvalidArgument, "databases must be between 1 and 256");
  }
  std::unique_ptr<Storage> s(new Storage(std::move(options)));
  std::error_code ec;
  std::filesystem::create_directories(s->options_.dir, ec);
  if (ec) return Status(Code::kStorage, "cannot create " + s->options_.dir + ": " + ec.message());

  s->block_cache_ = rocksdb::NewLRUCache(s->options_.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = s->block_cache_;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Partitioned index and filters: a large SST's whole filter (about 1.2 bytes per key, so
  // megabytes once a collection has millions of elements) can exceed a block-cache shard, and
  // then it is read back from disk and checksummed on every lookup. Partitions are ~4 KB
  // blocks cached like data blocks; the small top-level index of each is pinned.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.format_version = 5;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = 512u << 20;

  rocksdb::CompressionType compression = rocksdb::kNoCompression;
  for (auto c : rocksdb::GetSupportedCompressions()) {
    if (c == rocksdb::kLZ4Compression) compression = c;
  }

  auto cf_options = [&]() {
    rocksdb::ColumnFamilyOptions o;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    o.write_buffer_size = s->options_.write_buffer_bytes;
    o.compression = compression;
    o.level_compaction_dynamic_level_bytes = true;
    return o;
  };
  auto filter_factory = std::make_shared<SubkeyFilterFactory>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(kCfCount);
  descriptors[kDefaultCf] = {rocksdb::kDefaultColumnFamilyName, cf_options()};
  descriptors[kDefaultCf].options.merge_operator = std::make_shared<Int64AddOperator>();
  descriptors[kMetaCf] = {"metadata", cf_options()};
  // Most writes first look their key up (SET must know whether it creates a key): a memtable
  // bloom filter lets a lookup of an absent key skip the memtable skiplist search.
  descriptors[kMetaCf].options.memtable_prefix_bloom_size_ratio = 0.05;
  descriptors[kMetaCf].options.memtable_whole_key_filtering = true;
  descriptors[kSubCf] = {"subkeys", cf_options()};
  descriptors[kSubCf].options.compaction_filter_factory = filter_factory;
  descriptors[kExpiryCf] = {"expiry", cf_options()};

  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(db_options, s->options_.dir, descriptors, &s->cfs_, &raw);
  if (!st.ok()) return Status(Code::kStorage, st.ToString());
  s->db_.reset(raw);
  filter_factory->Attach(raw, s->cfs_[kMetaCf]);

  Status loaded = s->LoadServerRecords();
  if (!loaded.ok()) return loaded;
  if (s->options_.background) s->housekeeper_ = std::thread([p = s.get()] { p->Housekeep(); });
  return s;
}

Status Storage::LoadServerRecords() {
  std::string value;
  for (int i = 0; i < kMaxDatabases; ++i) db_map_[i] = static_cast<uint8_t>(i);
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), default_cf(), kDbMapKey, &value);
  if (st.ok()) {
    for (size_t i = 0; i < value.size() && i < kMaxDatabases; ++i) {
      db_map_[i] = static_cast<uint8_t>(value[i]);
    }
  } else if (!st.IsNotFound()) {
    return FromRocks(st);
  }
  // Versions continue above the highest one any applied batch used. (Stores written before
  // the record existed used versions seeded from the clock, around 2^60: new incarnations
  // start low, and a version only has to differ from the key's dead incarnations.)
  next_version_.store(1);
  st = db_->Get(rocksdb::ReadOptions(), default_cf(), kVersionKey, &value);
  if (st.ok() && value.size() == 8) next_version_.store(GetFixed64LE(value.data()) + 1);
  for (int db = 0; db < kMaxDatabases; ++db) {
    for (char kind : {'k', 'e'}) {
      st = db_->Get(rocksdb::ReadOptions(), default_cf(),
                    CounterKey(kind, static_cast<uint8_t>(db)), &value);
      int64_t v = 0;
      if (st.ok() && value.size() == 8) v = static_cast<int64_t>(GetFixed64LE(value.data()));
      (kind == 'k' ? key_counts_ : expire_counts_)[db].store(v);
    }
  }
  return Status::Ok();
}

Storage::~Storage() {
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
  if (db_) {
    (void)db_->SyncWAL();
    // A running compaction's SubkeyFilter reads the metadata column family through its handle:
    // wait for background work to stop before the handles go.
    rocksdb::CancelAllBackgroundWork(db_.get(), /*wait=*/true);
    for (auto* cf : cfs_) (void)db_->DestroyColumnFamilyHandle(cf);
    cfs_.clear();
    (void)db_->Close();
  }
}

namespace {

// Reads the server records of an applied batch back out of it: what Apply derives the
// in-memory state from (see the records in storage.h).
class AppliedRecords : public rocksdb::WriteBatch::Handler {
 public:
  explicit AppliedRecords(uint32_t default_cf) : default_cf_(default_cf) {}

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    if (cf != default_cf_) return rocksdb::Status::OK();
    std::string_view k(key.data(), key.size());
    if (k == kDbMapKey) {
      db_map.assign(value.data(), value.size());
    } else if (k == kVersionKey && value.size() == 8) {
      version = std::max(version, GetFixed64LE(value.data()));
    } else if (int idx = CounterIndex(k); idx >= 0 && value.size() == 8) {
      Touch(idx);
      reset[idx] = true;
      delta[idx] = static_cast<int64_t>(GetFixed64LE(value.data()));
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    if (cf != default_cf_) return rocksdb::Status::OK();
    if (std::string_view(key.data(), key.size()) == kVersionKey && value.size() == 8) {
      version = std::max(version, GetFixed64LE(value.data()));
      return rocksdb::Status::OK();
    }
    int idx = CounterIndex(std::string_view(key.data(), key.size()));
    if (idx >= 0 && value.size() == 8) {
      Touch(idx);
      delta[idx] += static_cast<int64_t>(GetFixed64LE(value.data()));
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    range_deleted = true;
    return rocksdb::Status::OK();
  }

  // Index into the counter arrays: keys counters first, then expires counters; -1 if none.
  static int CounterIndex(std::string_view k) {
    if (k.size() != 5) return -1;
    int db = static_cast<unsigned char>(k[4]);
    if (k.starts_with("keys")) return db;
    if (k.starts_with("exps")) return kMaxDatabases + db;
    return -1;
  }

  // Notes a counter the batch sets or moves (most batches touch one or two).
  void Touch(int idx) {
    if (!touched_flag[idx]) {
      touched_flag[idx] = true;
      touched.push_back(idx);
    }
  }

  uint32_t default_cf_;
  std::string db_map;  // empty: unchanged
  uint64_t version = 0;
  bool range_deleted = false;
  std::vector<int> touched;  // counter indexes, in first-touch order
  std::array<bool, 2 * kMaxDatabases> touched_flag{};
  std::array<int64_t, 2 * kMaxDatabases> delta{};
  std::array<bool, 2 * kMaxDatabases> reset{};
};

}  // namespace

void Storage::RunExpiredEffects(const MutationEffects& effects) {
  for (const auto& [db, key] : effects.expired) NotifyExpired(db, key);
}

Status Storage::CommitWhole(Mutation mutation) {
  // The caller holds the whole store (db guard exclusive), so waiting blocks no one more.
  return committer()->SubmitAndWait(std::move(mutation));
}

Status Storage::Apply(Mutation& mutation) {
  rocksdb::WriteBatch* batch = &mutation.batch;
  if (batch->Count() == 0) return Status::Ok();
  AppliedRecords records(default_cf()->GetID());
  rocksdb::Status st = batch->Iterate(&records);
  if (!st.ok()) return FromRocks(st);
  // A whole-store operation (a range deletion, a db map change) is synced unless fsync is
  // left to the OS: it is rare and a client expects it to stick.
  bool whole = records.range_deleted || !records.db_map.empty();
  rocksdb::WriteOptions wo;
  wo.sync = fsync_policy() == FsyncPolicy::kAlways || (whole && fsync_policy() != FsyncPolicy::kNo);
  st = db_->Write(wo, batch);
  if (!st.ok()) return FromRocks(st);
  for (int i : records.touched) {
    auto& counter = i < kMaxDatabases ? key_counts_[i] : expire_counts_[i - kMaxDatabases];
    if (records.reset[i]) {
      counter.store(records.delta[i], std::memory_order_relaxed);
    } else if (records.delta[i] != 0) {
      counter.fetch_add(records.delta[i], std::memory_order_relaxed);
    }
  }
  if (!records.db_map.empty()) {
    for (size_t i = 0; i < records.db_map.size() && i < kMaxDatabases; ++i) {
      db_map_[i] = static_cast<uint8_t>(records.db_map[i]);
    }
  }
  if (records.version != 0) {
    uint64_t next = records.version + 1;
    uint64_t cur = next_version_.load(std::memory_order_relaxed);
    while (cur < next && !next_version_.compare_exchange_weak(cur, next)) {
    }
  }
  if (records.range_deleted) {
    // Range tombstones are cheapest to read once they sit in an SST file.
    (void)db_->Flush(rocksdb::FlushOptions(), {meta_cf(), sub_cf(), expiry_cf()});
  }
  stats_.writes.fetch_add(1, std::memory_order_relaxed);
  if (wo.sync) {
    // A synced write is a WAL fsync (concurrent ones may share one): wal_syncs counts these
    // under appendfsync always, and SyncWal's once a second under everysec.
    stats_.wal_syncs.fetch_add(1, std::memory_order_relaxed);
  } else {
    writes_since_sync_.store(true, std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status Storage::SyncWal() {
  writes_since_sync_.store(false, std::memory_order_relaxed);
  rocksdb::Status st = db_->SyncWAL();
  if (st.ok()) stats_.wal_syncs.fetch_add(1, std::memory_order_relaxed);
  return FromRocks(st);
}

Status Storage::ReplaceContents(const std::vector<std::vector<std::string>>& files) {
  if (files.size() > cfs_.size()) return Status(Code::kInvalidArgument, "too many column families");
  rocksdb::WriteBatch wipe;
  for (auto* cf : cfs_) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    it->SeekToFirst();
    if (!it->Valid()) continue;
    std::string first = it->key().ToString();
    it->SeekToLast();
    std::string end = it->key().ToString();
    end.push_back('\0');  // the smallest key above the last one
    (void)wipe.DeleteRange(cf, first, end);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status st = db_->Write(wo, &wipe);
  if (!st.ok()) return FromRocks(st);
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].empty()) continue;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cfs_[i];
    arg.external_files = files[i];
    arg.options.move_files = false;
    arg.options.allow_global_seqno = true;
    arg.options.allow_blocking_flush = true;
    args.push_back(std::move(arg));
  }
  if (!args.empty()) {
    st = db_->IngestExternalFiles(args);
    if (!st.ok()) return FromRocks(st);
  }
  st = db_->FlushWAL(/*sync=*/true);
  if (!st.ok()) return FromRocks(st);
  return LoadServerRecords();
}

Status Storage::ReadKey(int logical_db, std::string_view key, KeyRecord* out,
                        const rocksdb::Snapshot* snapshot) {
  return ReadPhysical(PhysicalDb(logical_db), key, out, snapshot);
}

Status Storage::ReadPhysical(uint8_t db, std::string_view key, KeyRecord* out,
                             const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  out->exists = false;
  rocksdb::Status st = db_->Get(ro, meta_cf(), MetaKey(db, key), &out->raw);
  if (st.IsNotFound()) {
    stats_.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  if (!st.ok()) return FromRocks(st);
  if (!DecodeMetadata(out->raw, &out->meta, nullptr)) {
    return Status(Code::kStorage, "corrupt metadata record");
  }
  if (out->meta.ExpiredAt(NowMs())) {
    NoteExpiredOnRead(db, key);
    stats_.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  stats_.keyspace_hits.fetch_add(1, std::memory_order_relaxed);
  out->exists = true;
  return Status::Ok();
}

void Storage::NoteExpiredOnRead(uint8_t db, std::string_view key) {
  if (!decide_expiry()) return;
  std::lock_guard<std::mutex> l(lazy_mu_);
  if (lazy_expired_.size() < 10000) lazy_expired_.emplace_back(db, std::string(key));
}

int64_t Storage::KeyCount(int logical_db) const {
  return key_counts_[db_map_[logical_db]].load(std::memory_order_relaxed);
}

int64_t Storage::ExpiresCount(int logical_db) const {
  return expire_counts_[db_map_[logical_db]].load(std::memory_order_relaxed);
}

void Storage::NotifyExpired(uint8_t db, std::string_view key) {
  stats_.expired_keys.fetch_add(1, std::memory_order_relaxed);
  if (expired_hook_) {
    int logical = LogicalDbOf(db);
    if (logical >= 0) expired_hook_(logical, key);
  }
}

int Storage::LogicalDbOf(uint8_t physical) const {
  for (int i = 0; i < options_.databases; ++i) {
    if (db_map_[i] == physical) return i;
  }
  return -1;
}

Mutation Storage::BuildFlushDb(int logical_db) {
  uint8_t db = db_map_[logical_db];
  Mutation m;
  m.epoch = committer()->Epoch();  // evaluated now, under this leadership
  for (auto* cf : {meta_cf(), sub_cf()}) {
    ForEachNonEmptySlot(db_.get(), cf, db, [&](uint16_t slot) {
      (void)m.batch.DeleteRange(cf, MetaKeyPrefix(slot, db), PrefixEnd(slot, db));
    });
  }
  (void)m.batch.Put(default_cf(), CounterKey('k', db), EncodeInt64(0));
  (void)m.batch.Put(default_cf(), CounterKey('e', db), EncodeInt64(0));
  return m;
}

Mutation Storage::BuildFlushAll() {
  Mutation m;
  m.epoch = committer()->Epoch();  // evaluated now, under this leadership
  const std::string low(1, '\0');
  (void)m.batch.DeleteRange(meta_cf(), low, std::string(1, '\x40'));
  (void)m.batch.DeleteRange(sub_cf(), low, std::string(1, '\x40'));
  (void)m.batch.DeleteRange(expiry_cf(), low, std::string(9, '\xff'));
  for (int db = 0; db < kMaxDatabases; ++db) {
    (void)m.batch.Put(default_cf(), CounterKey('k', static_cast<uint8_t>(db)), EncodeInt64(0));
    (void)m.batch.Put(default_cf(), CounterKey('e', static_cast<uint8_t>(db)), EncodeInt64(0));
  }
  return m;
}

Mutation Storage::BuildSwapDb(int a, int b) {
  // The whole map as it will be: Apply installs it (on every store applying the batch).
  std::array<uint8_t, kMaxDatabases> map = db_map_;
  std::swap(map[a], map[b]);
  Mutation m;
  m.epoch = committer()->Epoch();  // evaluated now, under this leadership
  (void)m.batch.Put(default_cf(), kDbMapKey,
                    std::string(reinterpret_cast<const char*>(map.data()), options_.databases));
  return m;
}

Status Storage::FlushDb(int logical_db, bool guard_held) {
  std::unique_lock<SharedGate> guard(db_guard_, std::defer_lock);
  if (!guard_held) guard.lock();
  return CommitWhole(BuildFlushDb(logical_db));
}

Status Storage::FlushAll(bool guard_held) {
  std::unique_lock<SharedGate> guard(db_guard_, std::defer_lock);
  if (!guard_held) guard.lock();
  return CommitWhole(BuildFlushAll());
}

Status Storage::SwapDb(int a, int b, bool guard_held) {
  std::unique_lock<SharedGate> guard(db_guard_, std::defer_lock);
  if (!guard_held) guard.lock();
  return CommitWhole(BuildSwapDb(a, b));
}

bool Storage::ExpireOne(uint8_t db, std::string_view key, uint64_t index_time, bool from_index) {
  // The decision is this store's (the one accepting writes); the deletion reaches the data,
  // and every store applying the same mutations, through the committer.
  std::shared_lock<SharedGate> guard(db_guard_);
  auto lock = locks_.LockKey(db, key);
  uint64_t epoch = committer()->Epoch();
  std::string raw;
  Metadata meta;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), meta_cf(), MetaKey(db, key), &raw);
  bool present = st.ok() && DecodeMetadata(raw, &meta, nullptr);
  if (!st.ok() && !st.IsNotFound()) return false;
  Mutation m;
  m.epoch = epoch;
  bool expired = present && meta.ExpiredAt(NowMs());
  if (from_index && (!present || meta.expire_at_ms != index_time)) {
    (void)m.batch.Delete(expiry_cf(), ExpiryKey(index_time, db, key));  // stale index entry
  }
  if (expired) {
    (void)m.batch.Delete(meta_cf(), MetaKey(db, key));
    (void)m.batch.Delete(expiry_cf(), ExpiryKey(meta.expire_at_ms, db, key));
    (void)m.batch.Merge(default_cf(), CounterKey('k', db), EncodeInt64(-1));
    (void)m.batch.Merge(default_cf(), CounterKey('e', db), EncodeInt64(-1));
    m.effects.expired.emplace_back(db, std::string(key));
  }
  if (m.batch.Count() == 0) return false;
  // The key's stripe and the guard stay held until the deletion is applied (done may run
  // on another thread: both may be released there).
  auto held = std::make_shared<std::pair<std::shared_lock<SharedGate>, LockManager::Guard>>(
      std::move(guard), std::move(lock));
  committer()->Submit(std::move(m), [this, held](Status applied, Mutation&& done) {
    if (applied.ok()) RunExpiredEffects(done.effects);  // with the key's stripe locked
    held->second.Release();
    held->first.unlock();
  });
  return expired;
}

size_t Storage::RunExpiryCycle(size_t max_keys) {
  if (!decide_expiry()) return 0;  // only the store that accepts writes decides
  size_t deleted = 0;
  std::vector<std::pair<uint8_t, std::string>> lazy;
  {
    std::lock_guard<std::mutex> l(lazy_mu_);
    lazy.swap(lazy_expired_);
  }
  for (auto& [db, key] : lazy) deleted += ExpireOne(db, key, 0, false) ? 1 : 0;

  uint64_t now = NowMs();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), expiry_cf()));
  size_t seen = 0;
  for (it->SeekToFirst(); it->Valid() && seen < max_keys; it->Next(), ++seen) {
    auto decoded = DecodeExpiryKey(std::string_view(it->key().data(), it->key().size()));
    if (!decoded) continue;
    if (decoded->expire_at_ms > now) break;
    deleted += ExpireOne(decoded->db, decoded->user_key, decoded->expire_at_ms, true) ? 1 : 0;
  }
  return deleted;
}

void Storage::Housekeep() {
  int tick = 0;
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stopping_) {
    bg_cv_.wait_for(l, std::chrono::milliseconds(100));
    if (stopping_) break;
    l.unlock();
    RunExpiryCycle(options_.expiry_cycle_keys);
    if (++tick % 10 == 0 && fsync_policy() == FsyncPolicy::kEverySec &&
        writes_since_sync_.load(std::memory_order_relaxed)) {
      (void)SyncWal();
    }
    l.lock();
  }
}

uint64_t Storage::IntProperty(const std::string& name) const {
  uint64_t total = 0;
  for (auto* cf : cfs_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, name, &v)) total += v;
  }
  return total;
}

// ---------------------------------------------------------------- Txn

Txn::Txn(Storage* storage, int logical_db, TxnMode mode)
    : storage_(storage),
      logical_db_(logical_db),
      db_(storage->PhysicalDb(logical_db)),
      mode_(mode),
      now_ms_(storage->NowMs()),
      epoch_(storage->committer()->Epoch()) {}

Txn::~Txn() {
  if (snapshot_ != nullptr) storage_->db()->ReleaseSnapshot(snapshot_);
}

void Txn::SelectDb(int logical_db) {
  logical_db_ = logical_db;
  db_ = storage_->PhysicalDb(logical_db);
}

void Txn::PinSnapshot() {
  if (snapshot_ == nullptr && mode_ == TxnMode::kRead) snapshot_ = storage_->db()->GetSnapshot();
}

rocksdb::ReadOptions Txn::read_options() const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  return ro;
}

rocksdb::WriteBatchWithIndex& Txn::batch() {
  if (!batch_) {
    batch_ = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                            /*overwrite_key=*/true);
  }
  return *batch_;
}

Status Txn::LoadIn(uint8_t db, std::string_view key, KeyRecord* out) {
  out->exists = false;
  rocksdb::Status st;
  std::string mk = MetaKey(db, key);
  if (batch_) {
    st = batch_->GetFromBatchAndDB(storage_->db(), read_options(), storage_->meta_cf(), mk,
                                   &out->raw);
  } else {
    st = storage_->db()->Get(read_options(), storage_->meta_cf(), mk, &out->raw);
  }
  auto& stats = storage_->stats();
  if (st.IsNotFound()) {
    if (mode_ == TxnMode::kRead) {
      stats.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
      if (sink_ != nullptr) sink_->OnKeyMiss(storage_->LogicalDbOf(db), key);
    }
    return Status::Ok();
  }
  if (!st.ok()) return FromRocks(st);
  if (!DecodeMetadata(out->raw, &out->meta, nullptr)) {
    return Status(Code::kStorage, "corrupt metadata record");
  }
  out->exists = true;
  if (out->meta.ExpiredAt(now_ms_)) {
    if (mode_ == TxnMode::kWrite) {
      RemoveIn(db, key, out);
      expired_.emplace_back(db, std::string(key));
    } else {
      out->exists = false;
      storage_->NoteExpiredOnRead(db, key);
      stats.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
      if (sink_ != nullptr) sink_->OnKeyMiss(storage_->LogicalDbOf(db), key);
    }
    return Status::Ok();
  }
  if (mode_ == TxnMode::kRead) stats.keyspace_hits.fetch_add(1, std::memory_order_relaxed);
  if (touch_) storage_->NoteAccess(db, key);
  return Status::Ok();
}

void Txn::StoreIn(uint8_t db, std::string_view key, KeyRecord* rec, const Metadata& meta,
                  std::string_view tail) {
  (void)batch().Put(storage_->meta_cf(), MetaKey(db, key), EncodeMetadata(meta, tail));
  uint64_t old_exp = rec->exists ? rec->meta.expire_at_ms : 0;
  CounterDelta delta{db, static_cast<int8_t>(rec->exists ? 0 : 1), 0};
  if (!rec->exists && sink_ != nullptr) sink_->OnNewKey(storage_->LogicalDbOf(db), key);
  if (old_exp != meta.expire_at_ms) {
    if (old_exp != 0) {
      (void)batch().Delete(storage_->expiry_cf(), ExpiryKey(old_exp, db, key));
      --delta.expires;
    }
    if (meta.expire_at_ms != 0) {
      (void)batch().Put(storage_->expiry_cf(), ExpiryKey(meta.expire_at_ms, db, key), "");
      ++delta.expires;
    }
  }
  if (delta.keys != 0 || delta.expires != 0) deltas_.push_back(delta);
  rec->exists = true;
  rec->meta = meta;
}

void Txn::RemoveIn(uint8_t db, std::string_view key, KeyRecord* rec) {
  if (!rec->exists) return;
  (void)batch().Delete(storage_->meta_cf(), MetaKey(db, key));
  CounterDelta delta{db, -1, 0};
  if (rec->meta.expire_at_ms != 0) {
    (void)batch().Delete(storage_->expiry_cf(), ExpiryKey(rec->meta.expire_at_ms, db, key));
    delta.expires = -1;
  }
  deltas_.push_back(delta);
  rec->exists = false;
}

Status Txn::GetSub(std::string_view key, uint64_t version, std::string_view sub, std::string* value,
                   bool* found) {
  rocksdb::Status st =
      batch_ ? batch_->GetFromBatchAndDB(storage_->db(), read_options(), storage_->sub_cf(),
                                         SubKey(db_, key, version, sub), value)
             : storage_->db()->Get(read_options(), storage_->sub_cf(),
                                   SubKey(db_, key, version, sub), value);
  *found = st.ok();
  if (st.IsNotFound()) return Status::Ok();
  return FromRocks(st);
}

void Txn::PutSub(std::string_view key, uint64_t version, std::string_view sub,
                 std::string_view value) {
  (void)batch().Put(storage_->sub_cf(), SubKey(db_, key, version, sub), value);
}

void Txn::DeleteSub(std::string_view key, uint64_t version, std::string_view sub) {
  (void)batch().Delete(storage_->sub_cf(), SubKey(db_, key, version, sub));
}

Status Txn::CopyElements(uint8_t src_db, std::string_view src_key, uint64_t src_version,
                         uint8_t dst_db, std::string_view dst_key, uint64_t dst_version) {
  std::string prefix = SubKeyPrefix(src_db, src_key, src_version);
  std::string dst_prefix = SubKeyPrefix(dst_db, dst_key, dst_version);
  // Elements as this transaction sees them: committed ones merged with the pending writes and
  // deletions of earlier commands (HSET h ...; COPY h h2 in one pipeline or MULTI).
  std::unique_ptr<rocksdb::Iterator> it = NewSubIterator();
  if (batch_) it.reset(batch_->NewIteratorWithBase(storage_->sub_cf(), it.release()));
  // Collected first: writing to the batch while iterating over it is not safe.
  std::vector<std::pair<std::string, std::string>> copies;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string k = dst_prefix;
    k.append(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    copies.emplace_back(std::move(k), it->value().ToString());
  }
  Status st = FromRocks(it->status());
  if (!st.ok()) return st;
  it.reset();
  for (const auto& [k, v] : copies) (void)batch().Put(storage_->sub_cf(), k, v);
  return Status::Ok();
}

std::unique_ptr<rocksdb::Iterator> Txn::NewSubIterator() {
  return std::unique_ptr<rocksdb::Iterator>(
      storage_->db()->NewIterator(read_options(), storage_->sub_cf()));
}

std::unique_ptr<rocksdb::Iterator> Txn::NewMetaIteratorWithPending() {
  std::unique_ptr<rocksdb::Iterator> it(
      storage_->db()->NewIterator(read_options(), storage_->meta_cf()));
  if (batch_) it.reset(batch_->NewIteratorWithBase(storage_->meta_cf(), it.release()));
  return it;
}

int64_t Txn::PendingKeyDelta(uint8_t db) const {
  int64_t n = 0;
  for (const auto& d : deltas_) {
    if (d.db == db) n += d.keys;
  }
  return n;
}

std::unique_ptr<rocksdb::Iterator> Txn::NewSubIteratorWithPending() {
  std::unique_ptr<rocksdb::Iterator> it = NewSubIterator();
  if (batch_) it.reset(batch_->NewIteratorWithBase(storage_->sub_cf(), it.release()));
  return it;
}

uint64_t Txn::NewVersion() {
  uint64_t v = storage_->NextVersion();
  max_version_ = std::max(max_version_, v);
  return v;
}

Status Txn::Commit() {
  Mutation m = TakeMutation();
  if (m.batch.Count() == 0) return Status::Ok();
  MutationEffects effects;
  Status st = storage_->committer()->SubmitAndWait(std::move(m), &effects);
  if (st.ok()) storage_->RunExpiredEffects(effects);
  return st;
}

Mutation Txn::TakeMutation() {
  if (snapshot_ != nullptr) {
    storage_->db()->ReleaseSnapshot(snapshot_);
    snapshot_ = nullptr;
  }
  savepoint_set_ = false;
  Mutation m;
  m.epoch = epoch_;
  if (!batch_) {
    deltas_.clear();
    expired_.clear();
    return m;
  }
  std::array<int64_t, kMaxDatabases> keys{}, exps{};
  for (const auto& d : deltas_) {
    keys[d.db] += d.keys;
    exps[d.db] += d.expires;
  }
  for (int i = 0; i < kMaxDatabases; ++i) {
    if (keys[i] != 0) {
      (void)batch_->GetWriteBatch()->Merge(
          storage_->default_cf(), CounterKey('k', static_cast<uint8_t>(i)), EncodeInt64(keys[i]));
    }
    if (exps[i] != 0) {
      (void)batch_->GetWriteBatch()->Merge(
          storage_->default_cf(), CounterKey('e', static_cast<uint8_t>(i)), EncodeInt64(exps[i]));
    }
  }
  if (max_version_ != 0 && batch_->GetWriteBatch()->Count() != 0) {
    std::string v;
    PutFixed64LE(&v, max_version_);
    (void)batch_->GetWriteBatch()->Merge(storage_->default_cf(), kVersionKey, v);
  }
  m.batch = std::move(*batch_->GetWriteBatch());
  batch_.reset();
  m.effects.expired = std::move(expired_);
  deltas_.clear();
  expired_.clear();
  max_version_ = 0;
  return m;
}

void Txn::BeginCommand(TxnMode mode, int logical_db) {
  mode_ = mode;
  touch_ = true;
  now_ms_ = storage_->NowMs();
  SelectDb(logical_db);
  savepoint_set_ = true;
  savepoint_deltas_ = deltas_.size();
  savepoint_expired_ = expired_.size();
  if (batch_) batch_->SetSavePoint();
}

void Txn::EndCommand(bool rollback) {
  if (snapshot_ != nullptr) {
    storage_->db()->ReleaseSnapshot(snapshot_);
    snapshot_ = nullptr;
  }
  if (!savepoint_set_) return;
  savepoint_set_ = false;
  if (rollback) {
    deltas_.resize(savepoint_deltas_);
    expired_.resize(savepoint_expired_);
    if (batch_) {
      // No savepoint on the batch means it was created by this command: drop it all.
      if (!batch_->RollbackToSavePoint().ok()) batch_->Clear();
    }
  } else if (batch_) {
    (void)batch_->PopSavePoint();
  }
}

size_t Txn::pending_writes() const { return batch_ ? batch_->GetWriteBatch()->Count() : 0; }

size_t Txn::pending_bytes() const { return batch_ ? batch_->GetWriteBatch()->GetDataSize() : 0; }

}  // namespace keel
