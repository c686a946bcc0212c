// solutions/ch06/hybrid_step.cpp — see hybrid_step.hpp.
#include "ch06/hybrid_step.hpp"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include "ptt/error.hpp"

namespace ptt::ch06 {

HybridStep::HybridStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options,
                       MPI_Comm world)
    : model_(model), train_(train), world_(world), parallel_(model.layout, options, world) {
  parallel_.make_optimizer(cfg.optimizer, cfg.lr, cfg.momentum);
  optimizer_state_.assign(parallel_.full_optimizer_size(), 0.0f);  // a fresh optimizer's: zeros
}

StateView HybridStep::host_state() { return {model_.params, optimizer_state_, optimizer_steps_}; }

void HybridStep::push_state(long optimizer_steps) {
  // Rank 0's state everywhere (every rank loaded the same, but this makes it a guarantee), then
  // each rank keeps its part.
  PTT_MPI_CHECK(
      MPI_Bcast(model_.params.data(), static_cast<int>(model_.params.size()), MPI_FLOAT, 0, world_));
  PTT_MPI_CHECK(
      MPI_Bcast(optimizer_state_.data(), static_cast<int>(optimizer_state_.size()), MPI_FLOAT, 0, world_));
  parallel_.load_params(model_.params);
  parallel_.load_optimizer(optimizer_state_, optimizer_steps);
  optimizer_steps_ = optimizer_steps;
}

void HybridStep::pull_state() {
  parallel_.gather_params(model_.params);
  parallel_.gather_optimizer(optimizer_state_);
  optimizer_steps_ = parallel_.optimizer_steps();
}

//! [hybrid_step_strategy]
void HybridStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) {
  // [ch06] the whole grid: pipeline over pp, tensor parallel over tp, data parallel over dp
  const StepOutcome out = parallel_.forward_backward(train_, batch, &ctx.phases);
  if (!out.finite) {
    // Every rank saw the same outcome; rank 0 gathers the gradients to name the first bad layer.
    parallel_.gather_grads(model_.grads);
    int rank = 0;
    PTT_MPI_CHECK(MPI_Comm_rank(world_, &rank));
    if (rank == 0) ctx.guard.check(out.loss, model_.grads, ctx.step, ctx.epoch);
    ctx.guard.fail(std::isfinite(out.loss) ? "a gradient is not finite" : "the loss is not finite", ctx.step,
                   ctx.epoch);
  }
  parallel_.update(ctx.lr, &ctx.phases);
  stats.add(out.loss, out.correct, batch.size());
}
//! [hybrid_step_strategy]

nlohmann::json gather_accounts(const HybridModel& model, MPI_Comm world) {
  const Memory m = model.memory(), f = model.memory_formula();
  const Traffic& t = model.traffic();
  const Traffic tf = model.traffic_formula();
  const Coords& c = model.coords();
  std::array<double, 19> mine{
      double(c.dp),        double(c.pp),          double(c.tp),   double(m.params), double(m.grads),
      double(m.optimizer), double(m.activations), double(m.comm), double(f.params), double(f.grads),
      double(f.optimizer), double(f.activations), double(f.comm), double(t.tp),     double(t.pp),
      double(t.dp),        double(tf.tp),         double(tf.pp),  double(tf.dp)};
  int rank = 0, ranks = 1;
  PTT_MPI_CHECK(MPI_Comm_rank(world, &rank));
  PTT_MPI_CHECK(MPI_Comm_size(world, &ranks));
  std::vector<double> all(rank == 0 ? mine.size() * std::size_t(ranks) : 0);
  PTT_MPI_CHECK(MPI_Gather(mine.data(), int(mine.size()), MPI_DOUBLE, all.data(), int(mine.size()),
                           MPI_DOUBLE, 0, world));
  nlohmann::json out = nlohmann::json::array();
  for (int r = 0; r < (rank == 0 ? ranks : 0); ++r) {
    const double* v = all.data() + std::size_t(r) * mine.size();
    auto memory = [&](const double* p) {
      return nlohmann::json{
          {"params", p[0]}, {"grads", p[1]}, {"optimizer", p[2]}, {"activations", p[3]}, {"comm", p[4]}};
    };
    out.push_back({{"rank", r},
                   {"dp", v[0]},
                   {"pp", v[1]},
                   {"tp", v[2]},
                   {"measured", memory(v + 3)},
                   {"formula", memory(v + 8)},
                   {"traffic", {{"tp", v[13]}, {"pp", v[14]}, {"dp", v[15]}}},
                   {"traffic_formula", {{"tp", v[16]}, {"pp", v[17]}, {"dp", v[18]}}}});
  }
  return out;
}

std::string memory_table(const nlohmann::json& accounts) {
  std::ostringstream out;
  out << "memory per rank, bytes: measured (from the buffers allocated) / formula (README)\n";
  out << "  rank  dp pp tp |          params |           grads |       optimizer |     activations |"
         "            comm\n";
  for (const auto& a : accounts) {
    out << "  " << std::setw(4) << a["rank"].get<int>() << "  " << std::setw(2) << a["dp"].get<int>() << " "
        << std::setw(2) << a["pp"].get<int>() << " " << std::setw(2) << a["tp"].get<int>() << " |";
    for (const char* kind : {"params", "grads", "optimizer", "activations", "comm"}) {
      const auto m = a["measured"][kind].get<long long>(), f = a["formula"][kind].get<long long>();
      std::ostringstream cell;
      cell << m << (m == f ? " =" : " !=");
      if (m != f) cell << " " << f;
      out << std::setw(17) << cell.str() << "|";
    }
    out << "\n";
  }
  out << "traffic per rank in the last step, bytes: measured / formula (tp: all-reduce payload; pp: sent;\n"
         "dp: gradient payload; an all-reduce puts 2(p-1)/p of its payload on the wire)\n";
  for (const auto& a : accounts) {
    out << "  rank " << std::setw(4) << a["rank"].get<int>() << ":";
    for (const char* group : {"tp", "pp", "dp"}) {
      const auto m = a["traffic"][group].get<long long>(), f = a["traffic_formula"][group].get<long long>();
      out << "  " << group << " " << m << (m == f ? " =" : " != " + std::to_string(f));
    }
    out << "\n";
  }
  return out.str();
}

void HybridStep::finish(Reporter& report) {
  parallel_.check_replicas();  // [ch06] the dp replicas of every part are identical
  const nlohmann::json accounts = gather_accounts(parallel_, world_);
  int rank = 0;
  PTT_MPI_CHECK(MPI_Comm_rank(world_, &rank));
  if (rank != 0) return;
  report.extra()["accounts"] = accounts;
  std::fputs(memory_table(accounts).c_str(), stdout);
}

}  // namespace ptt::ch06
