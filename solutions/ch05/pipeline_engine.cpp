// The pipeline's engine (see pipeline_engine.hpp): the schedules checked, then one thread per stage
// that follows its order, receiving what it needs from its neighbours and sending what they need.
#include "ch05/pipeline_engine.hpp"

#include <algorithm>
#include <stdexcept>

#include "ch05/channel.hpp"
#include "ptt/error.hpp"

namespace ptt::ch05 {

const std::map<std::string, Schedule>& schedule_names() {
  static const std::map<std::string, Schedule> names{{"gpipe", Schedule::GPipe},
                                                     {"1f1b", Schedule::OneFOneB}};
  return names;
}

std::string schedule_name(Schedule s) { return s == Schedule::GPipe ? "gpipe" : "1f1b"; }

std::vector<Op> make_schedule(Schedule s, int stage, int stages, int micro) {
  return s == Schedule::GPipe ? gpipe_schedule(stage, stages, micro)
                              : one_f_one_b_schedule(stage, stages, micro);
}

std::string to_string(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    if (!out.empty()) out += ' ';
    out += op.forward ? 'F' : 'B';
    out += std::to_string(op.micro);
  }
  return out;
}

void validate_schedule(const std::vector<Op>& ops, int micro) {
  std::vector<int> forwards(static_cast<std::size_t>(micro), 0),
      backwards(static_cast<std::size_t>(micro), 0);
  for (const Op& op : ops) {
    if (op.micro < 0 || op.micro >= micro)
      throw std::logic_error("schedule names micro-batch " + std::to_string(op.micro) + " of " +
                             std::to_string(micro));
    const auto j = static_cast<std::size_t>(op.micro);
    if (op.forward) {
      if (++forwards[j] > 1) throw std::logic_error("schedule runs F" + std::to_string(op.micro) + " twice");
    } else {
      if (forwards[j] == 0)
        throw std::logic_error("schedule runs B" + std::to_string(op.micro) + " before F" +
                               std::to_string(op.micro));
      if (++backwards[j] > 1) throw std::logic_error("schedule runs B" + std::to_string(op.micro) + " twice");
    }
  }
  for (int j = 0; j < micro; ++j)
    if (backwards[static_cast<std::size_t>(j)] == 0)
      throw std::logic_error("schedule never runs B" + std::to_string(j) + " (" + to_string(ops) + ")");
}

void validate_orders_fit(const std::vector<std::vector<Op>>& orders) {
  const std::size_t p = orders.size();
  // sent_f[s][j]: stage s has run F j (its activations are on their way to s + 1); sent_b: B j.
  std::vector<std::vector<bool>> sent_f(p), sent_b(p);
  std::vector<std::size_t> next(p, 0);
  for (std::size_t s = 0; s < p; ++s) {
    int micro = 0;
    for (const Op& op : orders[s]) micro = std::max(micro, op.micro + 1);
    sent_f[s].assign(static_cast<std::size_t>(micro), false);
    sent_b[s].assign(static_cast<std::size_t>(micro), false);
  }
  auto sent = [](const std::vector<bool>& v, int j) {
    return static_cast<std::size_t>(j) < v.size() && v[static_cast<std::size_t>(j)];
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t s = 0; s < p; ++s) {
      for (; next[s] < orders[s].size(); ++next[s], progress = true) {
        const Op& op = orders[s][next[s]];
        const bool ready = op.forward ? s == 0 || sent(sent_f[s - 1], op.micro)
                                      : s + 1 == p || sent(sent_b[s + 1], op.micro);
        if (!ready) break;
        (op.forward ? sent_f : sent_b)[s][static_cast<std::size_t>(op.micro)] = true;
      }
    }
  }
  for (std::size_t s = 0; s < p; ++s)
    if (next[s] < orders[s].size()) {
      const Op& op = orders[s][next[s]];
      throw std::logic_error("the stages' orders deadlock: stage " + std::to_string(s) +
                             " waits forever at " + (op.forward ? "F" : "B") + std::to_string(op.micro) +
                             " of " + to_string(orders[s]));
    }
}

namespace {
/// A message between stages: which micro-batch, and the matrix.
struct Message {
  int micro = 0;
  Matrix data;
};

/// @brief Receives the next message of @p link, which must belong to micro-batch @p micro:
/// channels keep their order, so any other micro-batch means the schedule is wrong.
/// @param link    the channel to read.
/// @param micro   the micro-batch the schedule expects next.
/// @param timeout how long to wait before giving up.
/// @param who     the receiving stage, for messages ("stage 1").
/// @param what    what the message carries ("activations", "gradients").
/// @return the message's matrix.
Matrix receive(Channel<Message>& link, int micro, std::chrono::milliseconds timeout, const std::string& who,
               const std::string& what) {
  const std::string tag = what + " of micro-batch " + std::to_string(micro);
  Message m = link.recv(timeout, who + ": " + tag);
  if (m.micro != micro)
    throw std::logic_error(who + " expected the " + tag + ", got " + std::to_string(m.micro));
  return std::move(m.data);
}
}  // namespace

PipelineRun run_pipeline(WorkerPool& pool, std::span<StageWork* const> stages, int micro, Schedule schedule,
                         Timeline& timeline, long step, std::chrono::milliseconds timeout) {
  const int p = static_cast<int>(stages.size());
  PTT_CHECK(p >= 1 && micro >= 1, "run_pipeline needs at least one stage and one micro-batch");
  PTT_CHECK(pool.size() == p, "run_pipeline needs one worker per stage");
  std::vector<std::vector<Op>> orders;
  for (int s = 0; s < p; ++s) {
    orders.push_back(make_schedule(schedule, s, p, micro));
    validate_schedule(orders.back(), micro);  // a malformed order fails here, not as a hang
  }
  validate_orders_fit(orders);  // and so do orders that would wait for each other
  // down[s]: stage s -> s+1 (activations); up[s]: stage s+1 -> s (gradients).
  std::vector<Channel<Message>> down(static_cast<std::size_t>(p)), up(static_cast<std::size_t>(p));
  PipelineRun run;
  run.peak_stored.assign(static_cast<std::size_t>(p), 0);
  auto stop_all = [&](const std::string& why) {
    for (auto& c : down) c.close(why);
    for (auto& c : up) c.close(why);
  };

  auto stage_thread = [&](int s) {
    const auto i = static_cast<std::size_t>(s);
    const std::string name = "stage " + std::to_string(s);
    int stored = 0;  // micro-batches whose activations this stage holds
    for (const Op& op : orders[i]) {
      if (op.forward) {
        Matrix input;
        if (s > 0) input = receive(down[i - 1], op.micro, timeout, name, "activations");
        const double t0 = timeline.now_us();
        Matrix out = stages[i]->forward(op.micro, std::move(input));
        timeline.record({s, op.micro, OpKind::Forward, step, t0, timeline.now_us()});
        run.peak_stored[i] = std::max(run.peak_stored[i], ++stored);
        if (s + 1 < p) down[i].send({op.micro, std::move(out)});
      } else {
        Matrix grad;
        if (s + 1 < p) grad = receive(up[i], op.micro, timeout, name, "gradients");
        const double t0 = timeline.now_us();
        Matrix dx = stages[i]->backward(op.micro, std::move(grad));
        timeline.record({s, op.micro, OpKind::Backward, step, t0, timeline.now_us()});
        --stored;
        if (s > 0) up[i - 1].send({op.micro, std::move(dx)});
      }
    }
  };
  run_workers(pool, "stage", stage_thread, stop_all);
  return run;
}

}  // namespace ptt::ch05
