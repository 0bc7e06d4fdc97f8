#include "cluster/node/cluster_node.h"

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <sstream>

#include "datatypes/encoding.h"
#include "datatypes/storage.h"

namespace keel::cluster {
namespace {

using namespace std::chrono_literals;
using replication::GroupHost;
using replication::GroupHostOptions;
using replication::PaxosNode;
using replication::ProposeResult;
using replication::Role;

const std::string kRecordPrefix("cluster\0node", 12);

std::string RecordKey(ReplicaId replica) {
  std::string k = kRecordPrefix;
  PutFixed64BE(&k, replica);
  return k;
}

uint64_t RandomU64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string RandomNodeId() {
  static const char* hex = "0123456789abcdef";
  std::string id;
  std::random_device rd;
  for (int i = 0; i < 40; ++i) id.push_back(hex[rd() % 16]);
  return id;
}

ReplicaId ReplicaOf(const std::string& node_id) {
  ReplicaId r = std::stoull(node_id.substr(0, 15), nullptr, 16);
  return r == 0 ? 1 : r;
}

}  // namespace

ClusterNode::ClusterNode(ClusterNodeOptions options, Storage* storage)
    : options_(std::move(options)), storage_(storage) {
  if (options_.bus_port == 0) options_.bus_port = static_cast<uint16_t>(options_.port + 10000);
  sync_every_cycle_.store(options_.sync);
  sync_every_second_.store(options_.sync_every_second);
}

ClusterNode::~ClusterNode() { Stop(); }

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(ClusterNodeOptions options,
                                                        Storage* storage) {
  std::unique_ptr<ClusterNode> node(new ClusterNode(std::move(options), storage));
  Status st = node->Open();
  if (!st.ok()) {
    node->Stop();
    return st;
  }
  return node;
}

uint16_t ClusterNode::bus_port() const { return bus_ ? bus_->port() : options_.bus_port; }

Status ClusterNode::Open() {
  std::string dir = options_.dir + "/paxos";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string error;
  if (replication::LogStore::Open(dir, &log_, &error) != replication::Status::kOk) {
    return Status(Code::kStorage, "cannot open the Paxos log in " + dir + ": " + error);
  }
  node_id_ = log_->GetNodeRecord("id");
  if (node_id_.size() != 40) {
    node_id_ = RandomNodeId();
    if (log_->PutNodeRecord("id", node_id_) != replication::Status::kOk) {
      return Status(Code::kStorage, "cannot persist the node id");
    }
  }
  replica_ = ReplicaOf(node_id_);
  bool found = false;
  std::string group = log_->GetNodeRecord("group");
  if (group.empty()) {
    group_ = (RandomU64() >> 2) | 1;  // a new group of one
    found = true;
    if (log_->PutNodeRecord("group", std::to_string(group_.load())) != replication::Status::kOk) {
      return Status(Code::kStorage, "cannot persist the group id");
    }
  } else {
    group_ = std::stoull(group);
  }
  replication::TcpTransport::Hello self{group_.load(), replica_, node_id_};
  bus_ = std::make_unique<replication::TcpTransport>(
      self,
      [this](GroupId group, replication::Message m) {
        GroupHost* host = host_.load();
        if (host != nullptr && group == group_.load()) host->Deliver(std::move(m));
      },
      [this](const replication::TcpTransport::Hello& from, std::string_view body) {
        return OnRequest(from, body);
      });
  if (options_.on_publish) bus_->set_publish_handler(options_.on_publish);
  Status st = bus_->Start(options_.bind, options_.bus_port);
  if (!st.ok()) return st;
  st = StartHost(found);
  if (!st.ok()) return st;
  storage_->set_committer(&committer_);
  storage_->set_decide_expiry(false);  // until it leads
  maintainer_ = std::thread([this] { Maintain(); });
  return Status::Ok();
}

GroupHostOptions ClusterNode::HostOptions(bool bootstrap) const {
  GroupHostOptions o;
  o.group = group_.load();
  o.paxos.id = replica_;
  o.paxos.random_seed = RandomU64();
  o.paxos.election_ticks = 10;
  o.paxos.heartbeat_ticks = 2;
  o.tick_ms = std::max<uint32_t>(1, options_.node_timeout_ms / 10);
  o.sync = sync_every_cycle_.load();
  o.snapshot_dir = options_.dir + "/paxos-snapshots";
  o.compact_bytes = options_.compact_bytes;
  o.on_progress = options_.on_progress;
  o.executor = bus_.get();  // the host loop runs on the bus thread: no hand-off per message
  if (bootstrap) o.bootstrap = {replica_};
  return o;
}

Status ClusterNode::StartHost(bool bootstrap) {
  GroupHostOptions o = HostOptions(bootstrap);
  auto host = std::make_unique<GroupHost>(o, storage_, log_.get(), bus_.get());
  Status st = host->Start();
  if (!st.ok()) return st;
  GroupHost* raw = host.get();
  {
    std::lock_guard<std::mutex> l(host_mu_);
    hosts_.push_back(std::move(host));
  }
  host_.store(raw);
  // Alone in its group: lead at once rather than after an election timeout.
  raw->RunOnHost([self = replica_](PaxosNode& n) {
    const auto& m = n.membership();
    if (m.voters.size() == 1 && m.voters[0] == self) n.Campaign();
  });
  return Status::Ok();
}

void ClusterNode::Stop() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (maintainer_.joinable()) maintainer_.join();
  if (worker_.joinable()) worker_.join();
  if (storage_ != nullptr && storage_->committer() == &committer_) storage_->set_committer(nullptr);
  // Stopped outside host_mu_: a host's Stop waits for the bus thread, which may be in
  // OnRequest waiting for host_mu_ (OnRequest sees stopping_ and starts no new host).
  std::vector<GroupHost*> hosts;
  {
    std::lock_guard<std::mutex> l(host_mu_);
    for (auto& h : hosts_) hosts.push_back(h.get());
  }
  for (GroupHost* h : hosts) h->Stop();
  if (bus_) bus_->Stop();
}

void ClusterNode::SetLogSync(bool every_cycle, bool every_second) {
  sync_every_cycle_.store(every_cycle);
  sync_every_second_.store(every_second);
  std::lock_guard<std::mutex> l(host_mu_);
  for (auto& h : hosts_) h->set_sync(every_cycle);
}

GroupHost::State ClusterNode::state() const {
  GroupHost* host = host_.load();
  return host != nullptr ? host->state() : GroupHost::State();
}

std::string ClusterNode::RecordValue() const {
  return node_id_ + " " + options_.ip + " " + std::to_string(options_.port) + " " +
         std::to_string(bus_port());
}

Status ClusterNode::WriteRecord(ReplicaId replica, const std::string& value) {
  Mutation m;
  m.epoch = committer_.Epoch();
  (void)m.batch.Put(storage_->default_cf(), RecordKey(replica), value);
  return committer_.SubmitAndWait(std::move(m));
}

void ClusterNode::Refresh() {
  GroupHost::State s = state();
  std::vector<NodeInfo> records;
  // Bounded to the records: the keys after them (counters merged on every write) would
  // otherwise be resolved, operand by operand, every 50 ms.
  std::string end = kRecordPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(storage_->db()->NewIterator(ro, storage_->default_cf()));
  for (it->Seek(kRecordPrefix); it->Valid() && it->key().starts_with(kRecordPrefix); it->Next()) {
    std::istringstream in(it->value().ToString());
    NodeInfo n;
    in >> n.node_id >> n.ip >> n.port >> n.bus_port;
    if (!in || n.node_id.size() != 40) continue;
    n.replica = ReplicaOf(n.node_id);
    records.push_back(std::move(n));
  }
  for (auto& n : records) {
    if (n.replica == replica_ || !s.membership.IsMember(n.replica)) continue;
    bus_->SetPeer(n.replica, n.ip, n.bus_port);
  }
  for (ReplicaId id : s.membership.removed) bus_->RemovePeer(id);
  {
    std::lock_guard<std::mutex> l(topo_mu_);
    records_ = std::move(records);
  }
  // Expiry is decided by the leader only; a follower deletes nothing by its own clock.
  storage_->set_decide_expiry(s.serving);
  if (s.serving) {
    std::string want = RecordValue();
    std::string have;
    bool ok = storage_->db()
                  ->Get(rocksdb::ReadOptions(), storage_->default_cf(), RecordKey(replica_), &have)
                  .ok();
    if (!ok || have != want) (void)WriteRecord(replica_, want);
  }
}

void ClusterNode::Maintain() {
  std::unique_lock<std::mutex> l(stop_mu_);
  auto last_sync = std::chrono::steady_clock::now();
  while (!stopping_) {
    l.unlock();
    Refresh();
    if (sync_every_second_.load() && std::chrono::steady_clock::now() - last_sync >= 1s) {
      last_sync = std::chrono::steady_clock::now();
      (void)log_->SyncWal();
    }
    l.lock();
    stop_cv_.wait_for(l, 50ms, [this] { return stopping_; });
  }
}

std::optional<NodeInfo> ClusterNode::Leader() const {
  for (auto& n : Nodes()) {
    if (n.leader) return n;
  }
  return std::nullopt;
}

std::vector<NodeInfo> ClusterNode::Nodes() const {
  GroupHost::State s = state();
  std::vector<NodeInfo> out;
  {
    std::lock_guard<std::mutex> l(topo_mu_);
    for (const auto& r : records_) {
      if (!s.membership.IsMember(r.replica)) continue;
      out.push_back(r);
    }
  }
  bool have_self = false;
  for (auto& n : out) have_self |= n.replica == replica_;
  if (!have_self && s.membership.IsMember(replica_)) {
    NodeInfo me;
    me.replica = replica_;
    me.node_id = node_id_;
    me.ip = options_.ip;
    me.port = options_.port;
    me.bus_port = bus_port();
    out.push_back(me);
  }
  for (auto& n : out) {
    n.voter = s.membership.IsVoter(n.replica);
    n.leader = n.replica == s.leader && s.leader != 0;
    n.myself = n.replica == replica_;
    auto m = s.match.find(n.replica);
    if (m != s.match.end()) n.match = m->second;
    if (n.myself) n.match = s.applied;
  }
  std::sort(out.begin(), out.end(), [](const NodeInfo& a, const NodeInfo& b) {
    if (a.leader != b.leader) return a.leader;
    return a.replica < b.replica;
  });
  return out;
}

Result<ProposeResult> ClusterNode::OnHost(std::function<ProposeResult(PaxosNode&)> fn) {
  auto promise = std::make_shared<std::promise<ProposeResult>>();
  auto future = promise->get_future();
  host_.load()->RunOnHost(
      [promise, fn = std::move(fn)](PaxosNode& n) { promise->set_value(fn(n)); });
  if (future.wait_for(2s) != std::future_status::ready) {
    return Status(Code::kInvalidArgument, "the replica group did not answer in time");
  }
  return future.get();
}

Status ClusterNode::Meet(const std::string& ip, uint16_t port, uint16_t bus_port) {
  if (!serving()) return Status(Code::kInvalidArgument, "CLUSTER MEET must be sent to the leader");
  if (bus_port == 0) bus_port = static_cast<uint16_t>(port + 10000);
  std::ostringstream req;
  req << "MEET1 " << group_.load() << " " << replica_ << " " << options_.ip << " "
      << this->bus_port();
  auto reply = bus_->Request(ip, bus_port, req.str(), 3s);
  if (!reply.ok()) {
    return Status(Code::kInvalidArgument, "no Keel node answered at " + ip + ":" +
                                              std::to_string(bus_port) + " (" +
                                              reply.status().detail() + ")");
  }
  std::istringstream in(*reply);
  std::string verdict;
  in >> verdict;
  if (verdict != "OK") {
    std::string why;
    std::getline(in, why);
    return Status(Code::kInvalidArgument,
                  "the node at " + ip + ":" + std::to_string(port) + " refused to join:" + why);
  }
  std::string node_id;
  uint16_t their_port = 0, their_bus = 0;
  in >> node_id >> their_port >> their_bus;
  if (!in || node_id.size() != 40) return Status(Code::kInvalidArgument, "malformed MEET reply");
  ReplicaId replica = ReplicaOf(node_id);
  if (state().membership.IsMember(replica)) return Status::Ok();  // already in
  Status st = WriteRecord(replica, node_id + " " + ip + " " + std::to_string(their_port) + " " +
                                       std::to_string(their_bus));
  if (!st.ok()) return st;
  bus_->SetPeer(replica, ip, their_bus);
  auto r = OnHost([replica](PaxosNode& n) { return n.ProposeAddMember(replica); });
  if (!r.ok()) return r.status();
  if (r->status != replication::Status::kOk) {
    return Status(Code::kInvalidArgument,
                  std::string("cannot add the node now: ") + replication::StatusName(r->status));
  }
  return Status::Ok();
}

void ClusterNode::MeetAsync(const std::string& ip, uint16_t port, uint16_t bus_port,
                            std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    if (!stopping_) {
      work_.push_back(MeetTask{ip, port, bus_port, std::move(done)});
      if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
      stop_cv_.notify_all();
      return;
    }
  }
  done(Status(Code::kInvalidArgument, "the node is shutting down"));
}

void ClusterNode::Work() {
  std::unique_lock<std::mutex> l(stop_mu_);
  while (true) {
    stop_cv_.wait(l, [this] { return stopping_ || !work_.empty(); });
    if (stopping_) break;
    MeetTask task = std::move(work_.front());
    work_.pop_front();
    l.unlock();
    task.done(Meet(task.ip, task.port, task.bus_port));
    l.lock();
  }
  std::deque<MeetTask> left;
  left.swap(work_);
  l.unlock();
  for (auto& t : left) t.done(Status(Code::kInvalidArgument, "the node is shutting down"));
}

Status ClusterNode::Forget(const std::string& node_id) {
  if (node_id.size() != 40) return Status(Code::kInvalidArgument, "Unknown node " + node_id);
  ReplicaId replica = ReplicaOf(node_id);
  if (replica == replica_)
    return Status(Code::kInvalidArgument, "I tried hard but I can't forget myself...");
  if (!state().membership.IsMember(replica))
    return Status(Code::kInvalidArgument, "Unknown node " + node_id);
  if (!serving())
    return Status(Code::kInvalidArgument, "CLUSTER FORGET must be sent to the leader");
  auto r = OnHost([replica](PaxosNode& n) { return n.ProposeRemoveMember(replica); });
  if (!r.ok()) return r.status();
  if (r->status != replication::Status::kOk) {
    return Status(Code::kInvalidArgument,
                  std::string("cannot remove the node now: ") + replication::StatusName(r->status));
  }
  return Status::Ok();
}

Status ClusterNode::Failover() {
  GroupHost::State s = state();
  if (s.role == Role::kLeader) {
    return Status(Code::kInvalidArgument, "You should send CLUSTER FAILOVER to a replica");
  }
  if (!s.membership.IsVoter(replica_)) {
    return Status(Code::kInvalidArgument, "this node is not a voter of its group yet");
  }
  host_.load()->RunOnHost([](PaxosNode& n) { n.Campaign(); });
  return Status::Ok();
}

std::string ClusterNode::OnRequest(const replication::TcpTransport::Hello& from,
                                   std::string_view body) {
  if (replication::IsChunk(body)) {
    GroupHost* host = host_.load();
    if (from.cluster != group_.load() || host == nullptr) return "ERR not a member of this group";
    return host->OnSnapshotChunk(from.replica, body);
  }
  std::istringstream in{std::string(body)};
  std::string verb, leader_ip;
  uint64_t group = 0;
  ReplicaId leader = 0;
  uint16_t leader_bus = 0;
  in >> verb >> group >> leader >> leader_ip >> leader_bus;
  if (verb != "MEET1" || !in || group == 0 || leader != from.replica)
    return "ERR malformed request";
  std::string ok =
      "OK " + node_id_ + " " + std::to_string(options_.port) + " " + std::to_string(bus_port());
  if (group == group_.load()) return ok;  // already a member (a repeated MEET)
  GroupHost::State s = state();
  if (s.membership.voters != std::vector<ReplicaId>{replica_} || !s.membership.learners.empty()) {
    return "ERR it already belongs to another cluster";
  }
  for (int db = 0; db < storage_->databases(); ++db) {
    if (storage_->KeyCount(db) != 0) return "ERR it holds data";
  }
  // Leave the group of one: stop its host, forget its log, and wait as an empty replica of
  // the new group (the leader sends it everything from the first entry).
  std::lock_guard<std::mutex> l(host_mu_);
  {
    std::lock_guard<std::mutex> s(stop_mu_);
    if (stopping_) return "ERR the node is shutting down";
  }
  GroupId old = group_.load();
  hosts_.back()->Stop();
  (void)log_->Erase(old);
  Mutation wipe;  // local records of the old group: nothing of it is replicated any more
  (void)wipe.batch.Delete(storage_->default_cf(), GroupHost::AppliedKey(old));
  (void)wipe.batch.Delete(storage_->default_cf(), RecordKey(replica_));
  (void)storage_->Apply(wipe);
  group_ = group;
  if (log_->PutNodeRecord("group", std::to_string(group)) != replication::Status::kOk) {
    return "ERR cannot persist the new group";
  }
  bus_->SetCluster(group);
  bus_->SetPeer(leader, leader_ip, leader_bus);
  GroupHostOptions o = HostOptions(/*bootstrap=*/false);
  auto host = std::make_unique<GroupHost>(o, storage_, log_.get(), bus_.get());
  if (!host->Start().ok()) return "ERR cannot start the new group's replica";
  host_.store(host.get());
  hosts_.push_back(std::move(host));
  return ok;
}

}  // namespace keel::cluster
